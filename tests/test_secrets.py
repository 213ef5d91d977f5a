"""Secrets (secret key, password, signatures) never reach reprs, logs or error objects."""

from __future__ import annotations

import logging

import pytest

from backendai_async import Client, ClientConfig, ClientError
from backendai_async.errors import mask_secrets
from backendai_async.middleware import HmacSigner
from backendai_async.testing import BackendAITestServer, Fault


async def test_debug_logs_and_errors_carry_no_secret_or_signature(
    server: BackendAITestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    texts: list[str] = [repr(cfg), str(cfg)]
    async with Client(cfg) as client:
        texts.append(repr(client))
        await client.request("POST", "/_test/echo/x", json={"echo": "x", "password": "pw-123456"})
        server.add_fault(Fault(path="/auth", status=500, body="boom", times=None))
        with pytest.raises(ClientError) as info:
            await client.request(
                "POST", "/auth", json={"password": "pw-123456", "secret_key": server.secret_key}
            )
        err = info.value
        texts += [repr(err), str(err), repr(err.to_dict()), repr(err.request_parameters)]
    signatures = [
        r.headers["Authorization"].rsplit(":", 1)[1]
        for r in server.requests
        if "Authorization" in r.headers
    ]
    assert signatures
    texts.append(caplog.text)
    assert "POST" in caplog.text  # the log does say what happened
    blob = "\n".join(texts)
    for secret in (server.secret_key, "pw-123456", *signatures):
        assert secret not in blob
    assert err.request_parameters == {"password": "********", "secret_key": "********"}


def test_signer_repr_hides_the_secret() -> None:
    signer = HmacSigner("AK", "very-secret")
    assert "very-secret" not in repr(signer)


def test_mask_secrets_is_recursive() -> None:
    masked = mask_secrets({"a": [{"Token": "t"}, {"ok": 1}], "nested": {"passwd": "x"}})
    assert masked == {"a": [{"Token": "********"}, {"ok": 1}], "nested": {"passwd": "********"}}
