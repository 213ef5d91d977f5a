"""Model serving over the manager's ``/services`` routes: ``client.model_service``.

The JS SDK's ``ModelService`` class is all stubs (the Web UI talks to these routes by
hand); this namespace implements them under the stubs' names. A model service (an
"endpoint") runs ``desired_session_count`` inference sessions of a model folder behind one
URL; each session is a "route" with a traffic ratio.

Managers before 23.03.11 (the JS SDK's ``model-serving`` feature flag) have no such
routes: every method then raises :class:`~backendai_async.UnsupportedFeatureError` after
negotiating the version, without sending the call. Any user may serve models; the server
decides who may touch which service (its owner, the domain's admins, superadmins).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypedDict

from ..errors import UnsupportedFeatureError
from ..timeouts import USE_DEFAULT, UseDefault
from ._args import check_flag, check_int, check_number, check_text, check_uuid, drop_none, optional
from ._base import Resource
from .sessions import check_session_name

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .._compat import Compat
    from ._base import Api

__all__ = [
    "CREATE_SERVICE_TIMEOUT",
    "MODEL_SERVING",
    "ModelService",
    "ServiceCreated",
    "ServiceErrors",
    "ServiceInfo",
    "ServiceRoute",
    "ServiceScaled",
    "ServiceSummary",
]

Timeout = float | UseDefault | None
MODEL_SERVING: Final = "model-serving"  # the supports() flag: manager 23.03.11 and later
CREATE_SERVICE_TIMEOUT: Final = 60.0  # the manager reads the model definition and dry-runs
_CLUSTER_MODES = ("single-node", "multi-node")


class ServiceSummary(TypedDict):
    """One item of ``list_service()`` (26.x adds ``replicas``, the same number)."""

    id: str
    name: str
    desired_session_count: int
    active_route_count: int
    service_endpoint: str | None
    is_public: bool


class ServiceRoute(TypedDict):
    """A healthy route of a service: one inference session and its share of the traffic."""

    route_id: str
    session_id: str | None
    traffic_ratio: float


class ServiceInfo(TypedDict):
    """``get_service_info()`` (26.x adds ``replicas``, ``model_id``, ``runtime_variant`` …)."""

    endpoint_id: str
    name: str
    desired_session_count: int
    active_routes: list[ServiceRoute]
    service_endpoint: str | None
    is_public: bool


class ServiceCreated(TypedDict):
    """``create_service()``: the new service's id (26.x answers the whole ServiceInfo)."""

    endpoint_id: str


class ServiceScaled(TypedDict):
    """``scale_routes()``: routes now, and the count asked for."""

    current_route_count: int
    target_count: int


class ServiceErrors(TypedDict):
    """``list_errors()``: routes that failed to start, and how often it was retried."""

    errors: list[dict[str, Any]]
    retries: int


def _services(api: Api, method: str, tail: str = "") -> Callable[[Compat], str]:
    """The path below ``/services``, once the negotiated manager is known to have it."""

    def path(compat: Compat) -> str:
        if not api.supports(MODEL_SERVING):
            raise UnsupportedFeatureError(
                f"model serving (/services) needs a manager of release 23.03.11 or later; "
                f"this server (API {compat.version}) is older. Nothing was sent.",
                title="Model serving is not supported by this server",
                request_method=method,
            )
        return "/services" + tail

    return path


def _service(service_id: object) -> str:
    return "/" + check_uuid(service_id, "service_id")


def _route(service_id: object, route_id: object) -> str:
    return f"{_service(service_id)}/routings/{check_uuid(route_id, 'route_id')}"


def _mapping(value: object, what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping, got {value!r}")
    return dict(value)


class ModelService(Resource):
    """``client.model_service``: list, create, scale and remove model services.

    Service and route ids are UUIDs (checked before sending). Every method takes
    ``timeout=`` and ``signal=``.
    """

    __slots__ = ()

    async def _call(
        self,
        method: str,
        tail: str,
        timeout: Timeout,
        signal: AbortSignal | None,
        **request: Any,
    ) -> Any:
        return await self._api.send(
            method, _services(self._api, method, tail), timeout=timeout, signal=signal, **request
        )

    async def list_service(
        self,
        name: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> list[ServiceSummary]:
        """The caller's services (only the one called ``name``, if given)."""
        name = optional(check_text, name, "name")
        query = None if name is None else {"name": name}
        result: list[ServiceSummary] = await self._call("GET", "", timeout, signal, params=query)
        return result

    async def create_service(
        self,
        name: str,
        image: str,
        model: str,
        desired_session_count: int = 1,
        *,
        architecture: str | None = None,
        group: str | None = None,
        domain: str | None = None,
        scaling_group: str | None = None,
        resources: Mapping[str, Any] | None = None,
        resource_opts: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        model_mount_destination: str | None = None,
        cluster_size: int | None = None,
        cluster_mode: str | None = None,
        tag: str | None = None,
        startup_command: str | None = None,
        bootstrap_script: str | None = None,
        callback_url: str | None = None,
        owner_access_key: str | None = None,
        open_to_public: bool | None = None,
        options: Mapping[str, Any] | None = None,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ServiceCreated:
        """Serve the model folder ``model`` (its name or id) with ``image``.

        The folder must be a model folder with a ``model-definition.yml``. 26.x needs
        ``scaling_group`` (23.09 picks one). ``options`` adds other top-level fields the
        server knows (``runtime_variant`` on 26.x …). Default deadline 60 s.
        """
        if cluster_mode is not None and cluster_mode not in _CLUSTER_MODES:
            raise ValueError(f"cluster_mode must be one of {_CLUSTER_MODES}, got {cluster_mode!r}")
        config = drop_none(
            model=check_text(model, "model"),
            scaling_group=optional(check_text, scaling_group, "scaling_group"),
            resources=_mapping(resources, "resources"),
            resource_opts=_mapping(resource_opts, "resource_opts"),
            environ=_mapping(environ, "environ"),
            model_mount_destination=optional(
                check_text, model_mount_destination, "model_mount_destination"
            ),
        )
        body = {
            **(_mapping(options, "options") or {}),
            **drop_none(
                name=check_session_name(name, "name"),
                image=check_text(image, "image"),
                desired_session_count=check_int(desired_session_count, "desired_session_count"),
                architecture=optional(check_text, architecture, "architecture"),
                group=optional(check_text, group, "group"),
                domain=optional(check_text, domain, "domain"),
                cluster_size=None
                if cluster_size is None
                else check_int(cluster_size, "cluster_size", 1),
                cluster_mode=cluster_mode,
                tag=optional(check_text, tag, "tag"),
                startup_command=optional(check_text, startup_command, "startup_command"),
                bootstrap_script=optional(check_text, bootstrap_script, "bootstrap_script"),
                callback_url=optional(check_text, callback_url, "callback_url"),
                owner_access_key=optional(check_text, owner_access_key, "owner_access_key"),
                open_to_public=None
                if open_to_public is None
                else check_flag(open_to_public, "open_to_public"),
                config=config,
            ),
        }
        timeout = CREATE_SERVICE_TIMEOUT if timeout is USE_DEFAULT else timeout
        result: ServiceCreated = await self._call("POST", "", timeout, signal, json=body)
        return result

    async def get_service_info(
        self, service_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> ServiceInfo:
        """One service: its routes, endpoint URL and session count."""
        result: ServiceInfo = await self._call("GET", _service(service_id), timeout, signal)
        return result

    async def terminate_service(
        self, service_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Remove a service (its sessions are terminated): ``{"success": true}``."""
        return await self._call("DELETE", _service(service_id), timeout, signal)

    termiate_service = terminate_service  # the JS SDK's spelling

    async def scale_routes(
        self,
        service_id: str,
        to: int,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ServiceScaled:
        """Ask for ``to`` inference sessions (the manager starts or stops routes to match)."""
        body = {"to": check_int(to, "to")}
        tail = _service(service_id) + "/scale"
        result: ServiceScaled = await self._call("POST", tail, timeout, signal, json=body)
        return result

    async def sync_routings(
        self, service_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Push the service's healthy routes to its app proxy again: ``{"success": true}``."""
        return await self._call("POST", _service(service_id) + "/sync", timeout, signal)

    async def update_route(
        self,
        service_id: str,
        route_id: str,
        traffic_ratio: float,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Set a route's share of the traffic (``>= 0``): ``{"success": true}``."""
        body = {"traffic_ratio": check_number(traffic_ratio, "traffic_ratio")}
        return await self._call("PUT", _route(service_id, route_id), timeout, signal, json=body)

    async def delete_route(
        self,
        service_id: str,
        route_id: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Stop one route's session (the manager starts a replacement): ``{"success": true}``."""
        return await self._call("DELETE", _route(service_id, route_id), timeout, signal)

    async def generate_service_token(
        self,
        service_id: str,
        duration: str | None = None,
        valid_until: int | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, str]:
        """An API token for a non-public service: ``{"token": ...}``.

        Give ``duration`` (``"1h"``, ``"30d"`` …) or ``valid_until`` (epoch seconds).
        """
        body = drop_none(
            duration=optional(check_text, duration, "duration"),
            valid_until=None if valid_until is None else check_int(valid_until, "valid_until", 1),
        )
        if not body:
            raise ValueError("give duration (e.g. '1h') or valid_until (epoch seconds)")
        tail = _service(service_id) + "/token"
        result: dict[str, str] = await self._call("POST", tail, timeout, signal, json=body)
        return result

    async def list_errors(
        self, service_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> ServiceErrors:
        """Why routes failed to start, and the retry count."""
        result: ServiceErrors = await self._call(
            "GET", _service(service_id) + "/errors", timeout, signal
        )
        return result

    async def clear_errors(
        self, service_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> None:
        """Forget the failed routes and reset the retry count (so the manager tries again)."""
        await self._call("POST", _service(service_id) + "/errors/clear", timeout, signal)
