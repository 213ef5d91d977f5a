"""The test server's signature verifier against golden vectors and a tiny independent signer.

The vectors (``../shared/reference/signing-vectors``) record what real clients put on the
wire and whether the real manager accepted it; the verifier must agree case by case.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backendai_async.testing import verify_signature
from backendai_async.testing._verify import (
    accepted_versions,
    build_sign_string,
    parse_authorization,
    parse_date,
)

VECTOR_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "signing-vectors"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _vector_params() -> list[Any]:
    vectors = VECTOR_DIR / "signing-vectors.json"
    cases_file = VECTOR_DIR / "cases.json"
    if not (vectors.is_file() and cases_file.is_file()):
        reason = f"signing vectors not found at {VECTOR_DIR} (shared/ must sit beside the repo)"
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=reason), id="absent")]
    keypairs = json.loads(cases_file.read_text())["keypairs"]
    params = []
    for case in json.loads(vectors.read_text())["cases"]:
        for source_name, source in case["sources"].items():
            params.append(
                pytest.param(
                    case["input"], source, keypairs, id=f"{case['input']['id']}-{source_name}"
                )
            )
    return params


def _media_type(value: str | None) -> str:
    return "application/octet-stream" if value is None else value.split(";")[0].strip().lower()


@pytest.mark.parametrize(("case", "source", "keypairs"), _vector_params())
def test_vector_verdict_matches_the_real_manager(
    case: dict[str, Any], source: dict[str, Any], keypairs: dict[str, str]
) -> None:
    expected_ok = source["server_verification"]["ok"]
    if "headers" not in source:
        assert not expected_ok, "a client that raised before sending cannot have passed"
        return
    headers = source["headers"]
    body = b"" if case["body"] is None else json.dumps(case["body"]).encode()
    now = _iso(case["date"])
    args = (
        case["method"],
        source["wire"]["request_target"],
        headers,
        body,
        source["wire"]["host_header"],
        _media_type(headers.get("Content-Type")),
    )
    result = verify_signature(*args, keypairs, now)
    assert result.ok is expected_ok, (result, source["server_verification"])
    server_sign_string = source["server_verification"].get("server_sign_string")
    if server_sign_string is not None:
        assert result.sign_string == server_sign_string
    if expected_ok:
        assert result.sign_string == source["sign_string"]
        assert result.expected_signature == source["signature"]
        assert result.access_key == case["access_key"]
        # the same request is accepted within the window and refused outside it
        assert verify_signature(*args, keypairs, now + timedelta(minutes=14)).ok
        late = verify_signature(*args, keypairs, now + timedelta(minutes=16))
        assert (late.ok, late.status, late.msg) == (False, 400, "Date/time sync error")
    else:
        assert (result.status, result.msg) == (401, "Signature mismatch")


# --- a tiny independent signer for the unit tests below -----------------------------------


def _sign(secret: str, key_date: str, host: str, sign_string: str) -> str:
    k1 = hmac.new(secret.encode(), key_date.encode(), hashlib.sha256).digest()
    k2 = hmac.new(k1, host.encode(), hashlib.sha256).digest()
    return hmac.new(k2, sign_string.encode(), hashlib.sha256).hexdigest()


def _headers(
    secret: str,
    *,
    method: str = "GET",
    path: str = "/auth/role",
    date: str = "2024-03-01T10:00:00Z",
    key_date: str = "20240301",
    host: str = "127.0.0.1:8081",
    ctype: str = "application/json",
    version: str = "v6.20230315",
    body_hash: str = EMPTY_SHA256,
    access_key: str = "AK",
) -> dict[str, str]:
    sign_string = (
        f"{method}\n{path}\n{date}\nhost:{host}\ncontent-type:{ctype}\n"
        f"x-backendai-version:{version}\n{body_hash}"
    )
    sig = _sign(secret, key_date, host, sign_string)
    return {
        "X-BackendAI-Date": date,
        "X-BackendAI-Version": version,
        "Authorization": f"BackendAI signMethod=HMAC-SHA256, credential={access_key}:{sig}",
    }


NOW = datetime(2024, 3, 1, 10, 5, tzinfo=timezone.utc)


def _verify(headers: dict[str, str], **kw: Any) -> Any:
    args: dict[str, Any] = {
        "method": "GET",
        "raw_path": "/auth/role",
        "headers": headers,
        "body": b"",
        "host": "127.0.0.1:8081",
        "content_type": "application/json",
        "secret_key": "s3cret",
        "now": NOW,
    }
    args.update(kw)
    return verify_signature(**args)


def test_accepts_a_request_signed_by_an_independent_signer() -> None:
    result = _verify(_headers("s3cret"))
    assert result.ok
    assert result.access_key == "AK"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("method", "POST"),
        ("raw_path", "/auth/role?x=1"),
        ("host", "localhost:8081"),
        ("content_type", "text/plain"),
        ("secret_key", "other"),
    ],
)
def test_any_difference_in_a_signed_input_is_a_mismatch(field: str, value: str) -> None:
    result = _verify(_headers("s3cret"), **{field: value})
    assert (result.ok, result.status, result.msg) == (False, 401, "Signature mismatch")
    assert result.problem() == {
        "type": "https://api.backend.ai/probs/auth-failed",
        "title": "Credential/signature mismatch.",
        "msg": "Signature mismatch",
    }


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-01T10:00:00Z",
        "2024-03-01T10:00:00.123Z",
        "2024-03-01T10:00:00.123456+00:00",
        "2024-03-01T10:00:00+00:00",
        "2024-03-01T10:00:00",
        "2024-03-01T10:00:00.1234567z",
        "2024-03-01T19:00:00+09:00",
        "Fri, 01 Mar 2024 10:00:00 GMT",
    ],
)
def test_parse_date_accepts_the_forms_the_manager_accepts(raw: str) -> None:
    parsed = parse_date(raw)
    assert parsed is not None
    assert abs(parsed - datetime(2024, 3, 1, 10, tzinfo=timezone.utc)) < timedelta(seconds=1)


@pytest.mark.parametrize("raw", ["", "yesterday", "2024-13-01T00:00:00Z", "not a date"])
def test_unparsable_dates_are_a_date_sync_error(raw: str) -> None:
    assert parse_date(raw) is None
    result = _verify({**_headers("s3cret"), "X-BackendAI-Date": raw})
    assert (result.status, result.problem()) == (
        400,
        {
            "type": "https://api.backend.ai/probs/invalid-auth-params",
            "title": "Missing or invalid authorization parameters.",
            "msg": "Date/time sync error",
        },
    )


def test_the_key_date_is_taken_in_the_offset_the_header_was_sent_in() -> None:
    # 2024-03-02 00:30 in +09:00 is still 2024-03-01 in UTC
    date = "2024-03-02T00:30:00+09:00"
    now = datetime(2024, 3, 1, 15, 31, tzinfo=timezone.utc)
    assert _verify(_headers("s3cret", date=date, key_date="20240302"), now=now).ok
    assert not _verify(_headers("s3cret", date=date, key_date="20240301"), now=now).ok


def test_date_header_wins_over_x_backendai_date() -> None:
    headers = _headers("s3cret")
    good_date = headers.pop("X-BackendAI-Date")
    assert _verify({**headers, "Date": good_date, "X-BackendAI-Date": "garbage"}).ok
    result = _verify({**headers, "Date": "garbage", "X-BackendAI-Date": good_date})
    assert result.msg == "Date/time sync error"


def test_window_is_fifteen_minutes_either_way() -> None:
    headers = _headers("s3cret")
    signed_at = datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
    for minutes, ok in [(-14.9, True), (14.9, True), (-15.1, False), (15.1, False)]:
        now = signed_at + timedelta(minutes=minutes)
        assert _verify(headers, now=now).ok is ok, minutes


def test_check_order_follows_the_manager() -> None:
    headers = _headers("s3cret")
    # a bad date is reported before a missing Authorization header
    result = _verify({"X-BackendAI-Date": "bad"})
    assert result.msg == "Date/time sync error"
    result = _verify({"X-BackendAI-Date": headers["X-BackendAI-Date"]})
    assert (result.status, result.msg) == (401, "Unauthorized access")
    # an unknown access key is reported before a missing version header
    no_version = {k: v for k, v in headers.items() if k != "X-BackendAI-Version"}
    result = _verify(no_version, secret_key={"OTHER": "x"})
    assert (result.status, result.msg) == (401, "Access key not found")
    result = _verify(no_version, secret_key={"AK": "s3cret"})
    assert (result.status, result.msg) == (400, "API version missing in request headers")


@pytest.mark.parametrize(
    ("auth", "status", "msg"),
    [
        ("BackendAI", 400, "Malformed authorization header"),
        ("Bearer abc", 400, "Invalid authorization type name"),
        ("BackendAI signMethod=HMAC-SHA256", 400, "Missing or malformed authorization parameters"),
        (
            "BackendAI signMethod=HMAC-SHA256, credential=AK",
            400,
            "Missing or malformed authorization parameters",
        ),
        (
            "BackendAI signMethod=FOO-SHA256, credential=AK:x",
            400,
            "Unsupported request signing method (MAC type)",
        ),
        (
            "BackendAI signMethod=HMAC-NOPE, credential=AK:x",
            400,
            "Unsupported request signing method (hash type)",
        ),
        ("BackendAI signMethod=HMACSHA256, credential=AK:x", 401, "Invalid signature"),
        ("BackendAI signMethod=HMAC-SHA256, credential=AK:x", 401, "Signature mismatch"),
    ],
)
def test_malformed_authorization_headers(auth: str, status: int, msg: str) -> None:
    result = _verify({**_headers("s3cret"), "Authorization": auth})
    assert (result.ok, result.status, result.msg) == (False, status, msg)


def test_parse_authorization_splits_the_credential() -> None:
    header = "BackendAI signMethod=HMAC-SHA256, credential=AKIA:abc:def"
    assert parse_authorization(header) == ("HMAC-SHA256", "AKIA", "abc:def")


def test_headers_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in _headers("s3cret").items()}
    assert _verify(headers).ok


def test_v3_hashes_the_body_but_never_a_multipart_one() -> None:
    body = b'{"echo": "hi"}'
    v3 = "v3.20170615"
    body_hash = hashlib.sha256(body).hexdigest()
    assert _verify(_headers("s3cret", version=v3, body_hash=body_hash), body=body).ok
    assert not _verify(_headers("s3cret", version=v3), body=body).ok
    multipart = _headers("s3cret", version=v3, ctype="multipart/form-data")
    assert _verify(multipart, body=body, content_type="multipart/form-data").ok
    # from v4.20181215 on the body never counts
    assert _verify(_headers("s3cret", version="v4.20181215"), body=body).ok
    assert build_sign_string("GET", "/", "d", "h", "a/b", "v4.20190615", b"x").endswith(
        EMPTY_SHA256
    )


def test_accepted_versions_follow_the_announced_one() -> None:
    v7 = accepted_versions("v7.20230615")
    assert "v7.20230615" in v7
    assert "v6.20230315" in v7
    assert "v4.20181215" in v7
    assert "v8.20240315" not in v7
    assert "v3.20170615" not in v7
    assert "v6.20230315" not in accepted_versions("v6.20220615")
    assert "v3.20170615" in accepted_versions("v4.20190615")
    assert accepted_versions("v3.20170615") == {"v3.20170615"}
    assert "v9.20250722" in accepted_versions("v9.20250722")
    assert "v3.20170615" not in accepted_versions("garbage")
    assert "v9.20250722" in accepted_versions("garbage")


_safe_text = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1, max_size=30)


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    path=_safe_text.map(lambda s: "/" + s),
    secret=_safe_text,
    seconds=st.integers(min_value=0, max_value=86399),
    tamper=st.integers(min_value=0, max_value=63),
)
def test_signer_and_verifier_agree_and_any_bit_flip_fails(
    method: str, path: str, secret: str, seconds: int, tamper: int
) -> None:
    signed_at = datetime(2024, 3, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    date = signed_at.isoformat()
    headers = _headers(secret, method=method, path=path, date=date, key_date="20240301")
    kw = {"method": method, "raw_path": path, "secret_key": secret, "now": signed_at}
    assert _verify(headers, **kw).ok
    ak, sig = headers["Authorization"].rsplit(":", 1)
    flipped = sig[:tamper] + ("0" if sig[tamper] != "0" else "1") + sig[tamper + 1 :]
    assert not _verify({**headers, "Authorization": f"{ak}:{flipped}"}, **kw).ok
