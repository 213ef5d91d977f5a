"""The pure signing functions against the golden vectors of the JS and official Python SDKs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backendai_async.signing import (
    EMPTY_BODY_SHA256,
    SigningKeys,
    authorization_header,
    derive_signing_key,
    format_date,
    make_sign_string,
    sign,
)

from .conftest import SHARED

VECTORS = SHARED / "reference" / "signing-vectors" / "signing-vectors.json"


def _vectors() -> list[tuple[str, dict[str, Any], str]]:
    if not VECTORS.exists():
        return []
    data = json.loads(VECTORS.read_text())
    keypairs = data["keypairs"]
    out = []
    for case in data["cases"]:
        for source, vec in case["sources"].items():
            if "sign_string" in vec:
                out.append(
                    (f"{case['input']['id']}/{source}", vec, keypairs[case["input"]["access_key"]])
                )
    return out


@pytest.mark.skipif(not VECTORS.exists(), reason="../shared/reference signing vectors not present")
@pytest.mark.parametrize(
    ("name", "vector", "secret"), _vectors(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_golden_vectors_reproduce_key_and_signature(
    name: str, vector: dict[str, Any], secret: str
) -> None:
    lines = vector["sign_string"].split("\n")
    method, path_qs, date, host_line, ct_line, ver_line, body_hash = lines
    rebuilt = make_sign_string(
        method,
        path_qs,
        date,
        host_line.removeprefix("host:"),
        ct_line.removeprefix("content-type:"),
        ver_line.removeprefix("x-backendai-version:"),
        body_hash,
    )
    assert rebuilt == vector["sign_string"]
    day = date[:10].replace("-", "")
    key = derive_signing_key(secret, day, vector["signed_host"])
    assert key.hex() == vector["sign_key_hex"]
    assert sign(key, rebuilt) == vector["signature"]


def test_date_header_and_key_day_come_from_the_same_second() -> None:
    assert format_date(1703980799.999) == ("2023-12-30T23:59:59Z", "20231230")
    assert format_date(1704067199.9) == ("2023-12-31T23:59:59Z", "20231231")
    assert format_date(1704067200.0) == ("2024-01-01T00:00:00Z", "20240101")


def test_signing_keys_are_cached_per_day_and_host() -> None:
    keys = SigningKeys("s3cret")
    first = keys.key("20240101", "h:1")
    assert keys.key("20240101", "h:1") is first
    assert keys.key("20240102", "h:1") != first
    assert keys.key("20240101", "h:2") != first
    assert keys.key("20240101", "h:1") == derive_signing_key("s3cret", "20240101", "h:1")
    assert "s3cret" not in repr(keys)


def test_authorization_header_shape_and_empty_body_hash() -> None:
    assert authorization_header("AK", "ab12") == (
        "BackendAI signMethod=HMAC-SHA256, credential=AK:ab12"
    )
    assert EMPTY_BODY_SHA256.startswith("e3b0c442")
