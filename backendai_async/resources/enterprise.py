"""The enterprise license: ``client.enterprise``.

``GET /license`` exists only on enterprise managers; the open-source ones (23.09 and 26.9
here) answer 404, which :meth:`Enterprise.get_license` reports as ``None``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._body import decode_object
from ..timeouts import USE_DEFAULT, UseDefault
from ._base import Resource, none_if_absent

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["Enterprise"]


async def _certificate(resp: Any, limit: int | None) -> dict[str, Any]:
    """The answer's ``certificate`` with ``valid`` added (``status == "valid"``), as in JS."""
    answer = await decode_object(resp, limit)
    certificate = answer.get("certificate")
    if not isinstance(certificate, dict):
        raise ValueError("the license answer has no certificate object")
    return {**certificate, "valid": answer.get("status") == "valid"}


class Enterprise(Resource):
    """``client.enterprise``: the license of an enterprise deployment."""

    __slots__ = ()

    async def get_license(
        self,
        *,
        timeout: float | UseDefault | None = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, Any] | None:
        """The license certificate plus ``valid``; ``None`` on an open-source manager (404).

        Any other failure raises (the JS SDK returns ``undefined`` for it, and caches the
        first answer; this asks every time). Superadmins only, as the server decides.
        """
        return await none_if_absent(
            self._api.send("GET", "/license", timeout=timeout, signal=signal, reader=_certificate)
        )
