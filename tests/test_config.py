"""ClientConfig: JS argument order, validation that names the problem, masked secrets."""

from __future__ import annotations

import pickle
import ssl

import pytest
from yarl import URL

from backendai_async import Client, ClientConfig, ConnectionMode, Timeouts

AK, SK = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_positional_arguments_follow_the_js_sdk_order() -> None:
    cfg = ClientConfig(AK, SK, "http://127.0.0.1:8081")
    assert cfg.access_key == AK
    assert cfg.secret_key == SK
    assert cfg.endpoint == URL("http://127.0.0.1:8081")
    assert cfg.endpoint_host == "127.0.0.1:8081"
    assert cfg.connection_mode is ConnectionMode.API
    assert cfg.hash_type == "sha256"
    assert cfg.api_version == "v6.20230315"
    assert cfg.api_version_major == 6


def test_keyword_arguments_and_default_endpoint() -> None:
    cfg = ClientConfig(access_key=AK, secret_key=SK)
    assert str(cfg.endpoint) == "https://api.backend.ai/"
    assert cfg.endpoint_host == "api.backend.ai"


def test_session_mode_takes_user_id_and_password() -> None:
    cfg = ClientConfig("user@x.com", "pass", "http://127.0.0.1:8090", "SESSION")
    assert cfg.connection_mode is ConnectionMode.SESSION
    assert cfg.user_id == "user@x.com"
    assert cfg.password == "pass"
    assert cfg.access_key == ""
    lower = ClientConfig(user_id="u@x.com", password="p", connection_mode="session")
    assert lower.user_id == "u@x.com"


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"secret_key": SK}, ("access_key", "BACKEND_ACCESS_KEY")),
        ({"access_key": AK}, ("secret_key", "BACKEND_SECRET_KEY")),
        ({"access_key": AK, "secret_key": "  "}, ("secret_key", "BACKEND_SECRET_KEY")),
        ({"password": "p", "connection_mode": "SESSION"}, ("user_id", "BACKEND_ACCESS_KEY")),
        ({"user_id": "u", "connection_mode": "SESSION"}, ("password", "BACKEND_SECRET_KEY")),
    ],
)
def test_missing_credentials_name_the_argument_and_the_variable(
    kwargs: dict[str, str], names: tuple[str, str]
) -> None:
    with pytest.raises(ValueError, match=names[0]) as info:
        ClientConfig(**kwargs)  # type: ignore[arg-type]
    assert names[1] in str(info.value)


@pytest.mark.parametrize(
    "endpoint", ["127.0.0.1:8081", "ftp://host", "/relative", "http://", "http://h/?q=1"]
)
def test_endpoint_must_be_an_absolute_http_url(endpoint: str) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        ClientConfig(AK, SK, endpoint)


def test_endpoint_keeps_a_path_prefix_without_trailing_slash() -> None:
    cfg = ClientConfig(AK, SK, "https://gw.example.com/backend/")
    assert cfg.endpoint.path == "/backend"


def test_default_ports_are_not_part_of_the_host() -> None:
    assert ClientConfig(AK, SK, "https://api.backend.ai:443").endpoint_host == "api.backend.ai"
    assert ClientConfig(AK, SK, "http://h:80").endpoint_host == "h"
    assert ClientConfig(AK, SK, "https://h:8443").endpoint_host == "h:8443"


def test_unknown_mode_and_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="connection_mode"):
        ClientConfig(AK, SK, connection_mode="COOKIE")
    with pytest.raises(ValueError, match="ssl"):
        ClientConfig(AK, SK, ssl="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        ClientConfig(AK, SK, timeout=0)
    with pytest.raises(ValueError, match="either"):
        ClientConfig(AK, SK, timeout=1, timeouts=Timeouts())
    with pytest.raises(ValueError, match="limit"):
        ClientConfig(AK, SK, limit=-1)
    with pytest.raises(ValueError, match="API version"):
        ClientConfig(AK, SK, api_version="6")
    with pytest.raises(ValueError, match="SESSION"):
        ClientConfig(AK, SK, password="x")


def test_connection_options_are_kept() -> None:
    ctx = ssl.create_default_context()
    cfg = ClientConfig(
        AK,
        SK,
        ssl=ctx,
        proxy="http://proxy:3128",
        trust_env=True,
        limit=7,
        timeout=3.5,
        user_agent="ua",
        max_response_size=10,
    )
    assert cfg.ssl is ctx
    assert cfg.proxy == URL("http://proxy:3128")
    assert cfg.trust_env is True
    assert cfg.limit == 7
    assert cfg.timeouts == Timeouts(total=3.5)
    assert cfg.user_agent == "ua"
    assert cfg.max_response_size == 10


def test_config_is_immutable() -> None:
    cfg = ClientConfig(AK, SK)
    with pytest.raises(AttributeError, match="immutable"):
        cfg.limit = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cfg.access_key = "x"  # type: ignore[misc]


def test_secrets_never_appear_in_repr_str_or_pickle() -> None:
    api = ClientConfig(AK, SK)
    session = ClientConfig("u@x.com", "hunter2-password", connection_mode="SESSION")
    for text in (repr(api), str(api)):
        assert SK not in text
        assert "********" in text
        assert AK in text
    for text in (repr(session), str(session)):
        assert "hunter2-password" not in text
    with pytest.raises(TypeError, match="secrets"):
        pickle.dumps(api)


def test_from_env_reads_the_js_variables_and_endpoint_type() -> None:
    env = {"BACKEND_ACCESS_KEY": AK, "BACKEND_SECRET_KEY": SK}
    cfg = ClientConfig.from_env(env)
    assert cfg.endpoint == URL("https://api.backend.ai/")
    env2 = {
        "BACKEND_ACCESS_KEY": "u@x.com",
        "BACKEND_SECRET_KEY": "pw",
        "BACKEND_ENDPOINT": "http://127.0.0.1:8090",
        "BACKEND_ENDPOINT_TYPE": "session",
    }
    cfg2 = ClientConfig.create_from_env(env2, timeout=2.0)
    assert cfg2.connection_mode is ConnectionMode.SESSION
    assert cfg2.user_id == "u@x.com"
    assert cfg2.timeouts.total == 2.0
    with pytest.raises(ValueError, match="BACKEND_ACCESS_KEY"):
        ClientConfig.from_env({})
    with pytest.raises(ValueError, match="BACKEND_ENDPOINT_TYPE"):
        ClientConfig.from_env({**env, "BACKEND_ENDPOINT_TYPE": "grpc"})


def test_from_env_uses_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_ACCESS_KEY", AK)
    monkeypatch.setenv("BACKEND_SECRET_KEY", SK)
    monkeypatch.setenv("BACKEND_ENDPOINT", "http://10.0.0.1:8081")
    monkeypatch.delenv("BACKEND_ENDPOINT_TYPE", raising=False)
    assert ClientConfig.from_env().endpoint_host == "10.0.0.1:8081"


@pytest.mark.parametrize("bad", ["a\rb", "a\nb", "a\x00b", " ak", "ak ", "\tak"])
def test_header_values_are_refused_when_they_could_break_a_header(bad: str) -> None:
    with pytest.raises(ValueError, match="access_key"):
        ClientConfig(bad, SK)
    with pytest.raises(ValueError, match="secret_key"):
        ClientConfig(AK, bad)
    with pytest.raises(ValueError, match="user_id"):
        ClientConfig(bad, "pw", "http://127.0.0.1:8090", "SESSION")
    with pytest.raises(ValueError, match="user_agent"):
        ClientConfig(AK, SK, user_agent=bad)
    with pytest.raises(ValueError, match="agent_signature"):
        Client(ClientConfig(AK, SK), agent_signature=bad)


def test_a_password_is_sent_in_a_json_body_so_any_text_is_fine() -> None:
    for password in (" pass word ", "pass\nword"):
        cfg = ClientConfig("me@x.org", password, "http://127.0.0.1:8090", "SESSION")
        assert cfg.password == password


def test_passwords_in_endpoint_and_proxy_urls_are_masked_in_reprs() -> None:
    cfg = ClientConfig(
        AK, SK, "http://me:endpoint-pw@127.0.0.1:8081", proxy="http://u:proxy-pw@p:3128"
    )
    client = Client(cfg)
    for text in (repr(cfg), str(cfg), repr(client)):
        assert "endpoint-pw" not in text
        assert "proxy-pw" not in text
    assert set(cfg.url_secrets) == {"endpoint-pw", "proxy-pw"}
