"""Session templates (``/template/session``): ``client.session_template``.

A template is a ``taskTemplate`` document (image, resources, mounts, startup command …)
that ``create_session_from_template()`` starts sessions from. ``create`` and ``update``
take the manager's payload: a list of ``{"template": {...}, "name"?, "group_id"?,
"user_uuid"?}`` items, as JSON/YAML text (what the JS Web UI sends) or as Python objects.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from ..timeouts import USE_DEFAULT, UseDefault
from ._args import check_flag, check_json_text, check_text, check_uuid, drop_none, optional
from ._base import Resource

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["CreatedTemplate", "SessionTemplate", "SessionTemplateEntry", "SessionTemplateInfo"]

Timeout = float | UseDefault | None
Payload = str | Mapping[str, Any] | Sequence[Mapping[str, Any]]


class SessionTemplateEntry(TypedDict):
    """One item of ``list()``."""

    name: str
    id: str
    created_at: str
    is_owner: bool
    user: str | None
    group: str | None
    user_email: str | None
    group_name: str | None
    domain_name: str
    type: str
    template: dict[str, Any]


class SessionTemplateInfo(TypedDict):
    """``get()``: the template document and who owns it."""

    template: dict[str, Any]
    name: str
    user_uuid: str
    group_id: str
    domain_name: str


class CreatedTemplate(TypedDict):
    """One item of ``create()``: the new template's id and its owner."""

    id: str
    user: str


def _payload(payload: object) -> str:
    """The manager's ``payload`` text; Python items are checked to carry a ``template``."""
    if isinstance(payload, str):
        return check_json_text(payload, "payload")
    items = [payload] if isinstance(payload, Mapping) else payload
    if not isinstance(items, Sequence) or not items:
        raise ValueError(f"payload must be JSON/YAML text or template items, got {payload!r}")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("template"), Mapping):
            raise ValueError(f"payload item {i} must be a mapping with a 'template' mapping")
    return check_json_text(list(items), "payload")


def _body(
    payload: object, group: object, domain: object, owner_access_key: object
) -> dict[str, Any]:
    return drop_none(
        payload=_payload(payload),
        group=optional(check_text, group, "group"),
        domain=optional(check_text, domain, "domain"),
        owner_access_key=optional(check_text, owner_access_key, "owner_access_key"),
    )


class SessionTemplate(Resource):
    """``client.session_template``: list, create, get, update and delete session templates.

    ``group``/``domain`` default to ``"default"`` on the manager; ``owner_access_key``
    (admins) acts for another keypair.
    """

    __slots__ = ()

    async def list(
        self,
        listall: bool = False,
        group_id: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> builtins.list[SessionTemplateEntry]:
        """Every active template the caller may use.

        ``listall`` and ``group_id`` are sent as the JS SDK sends them (in one proper query
        string); the 23.09 and 26.9 managers list the same templates either way.
        """
        query = {"all": "true"} if check_flag(listall, "listall") else {}
        if group_id is not None:
            query["group_id"] = check_text(group_id, "group_id")
        result: builtins.list[SessionTemplateEntry] = await self._api.send(
            "GET", "/template/session", params=query or None, timeout=timeout, signal=signal
        )
        return result

    async def create(
        self,
        payload: Payload,
        *,
        group: str | None = None,
        domain: str | None = None,
        owner_access_key: str | None = None,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> builtins.list[CreatedTemplate]:
        """Create the templates of ``payload``: their ids, in the payload's order."""
        body = _body(payload, group, domain, owner_access_key)
        result: builtins.list[CreatedTemplate] = await self._api.send(
            "POST", "/template/session", json=body, timeout=timeout, signal=signal
        )
        return result

    async def _by_id(
        self,
        method: str,
        template_id: object,
        owner_access_key: object,
        timeout: Timeout,
        signal: AbortSignal | None,
    ) -> Any:
        ref = check_uuid(template_id, "template_id")
        owner = optional(check_text, owner_access_key, "owner_access_key")
        return await self._api.send(
            method,
            f"/template/session/{ref}",
            params=None if owner is None else {"owner_access_key": owner},
            timeout=timeout,
            signal=signal,
        )

    async def get(
        self,
        template_id: str,
        *,
        owner_access_key: str | None = None,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> SessionTemplateInfo:
        """One template (an empty object when no active template has that id, on 23.09)."""
        result: SessionTemplateInfo = await self._by_id(
            "GET", template_id, owner_access_key, timeout, signal
        )
        return result

    async def update(
        self,
        template_id: str,
        payload: Payload,
        *,
        group: str | None = None,
        domain: str | None = None,
        owner_access_key: str | None = None,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Replace template ``template_id`` by the (one) item of ``payload``."""
        ref = check_uuid(template_id, "template_id")
        body = _body(payload, group, domain, owner_access_key)
        return await self._api.send(
            "PUT", f"/template/session/{ref}", json=body, timeout=timeout, signal=signal
        )

    async def delete(
        self,
        template_id: str,
        *,
        owner_access_key: str | None = None,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Deactivate template ``template_id``: ``{"success": true}`` (404 if there is none)."""
        return await self._by_id("DELETE", template_id, owner_access_key, timeout, signal)
