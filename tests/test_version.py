"""Version parsing, the negotiation table, manager release ordering and feature flags."""

from __future__ import annotations

import pytest

from backendai_async._compat import compat_for
from backendai_async.version import (
    ApiVersion,
    UnsupportedVersionError,
    features_for,
    manager_at_least,
    manager_version_key,
    negotiate,
)


@pytest.mark.parametrize(
    ("server", "chosen"),
    [
        ("v3.20170615", "v3.20170615"),
        ("v4.20181215", "v4.20181215"),
        ("v4.20190615", "v4.20190615"),
        ("v4.20190701", "v4.20190615"),  # an unknown revision: newest known below it
        ("v5.20191215", "v5.20191215"),
        ("v6.20200815", "v6.20200815"),
        ("v6.20220615", "v6.20220615"),
        ("v6.20230315", "v6.20230315"),
        ("v7.20230615", "v6.20230315"),
        ("v8.20240915", "v6.20230315"),
        ("v9.20250722", "v6.20230315"),
    ],
)
def test_negotiation_table(server: str, chosen: str) -> None:
    assert str(negotiate(server)) == chosen


@pytest.mark.parametrize("server", ["v2.20170315", "v1.20160915", "6.0", "", "vX.2020", "v6.2023"])
def test_too_old_or_unparsable_versions_are_refused(server: str) -> None:
    with pytest.raises(UnsupportedVersionError):
        negotiate(server)


def test_a_ceiling_caps_the_negotiated_version() -> None:
    assert str(negotiate("v7.20230615", ApiVersion.parse("v5.20191215"))) == "v5.20191215"


def test_versions_compare_by_major_then_date() -> None:
    assert ApiVersion.parse("v10.20200101") > ApiVersion.parse("v9.20990101")
    assert ApiVersion.parse("v4.20190615") < ApiVersion.parse("v5.20191215")
    with pytest.raises(ValueError, match=r"vN\.YYYYMMDD"):
        ApiVersion.parse("v4")


def test_manager_releases_compare_numerically() -> None:
    key = manager_version_key
    assert key("20.09.16") < key("20.09.100")
    assert key("23.09") == key("23.09.0")
    assert key("23.09.0rc1") < key("23.09.0")
    assert key("23.09.10") > key("23.09.9")


def test_feature_flags_follow_api_and_manager_versions() -> None:
    old = features_for(ApiVersion.parse("v4.20190615"), "19.09.0")
    assert "scaling-group" in old
    assert "multi-container" not in old
    new = features_for(ApiVersion.parse("v6.20230315"), "23.09.10")
    assert {"multi-container", "avoid-hol-blocking", "inference-workload", "2FA"} <= new
    assert "vfolder-trash-bin" not in new  # a 24.03 feature


def test_the_newer_js_flags_follow_the_manager_release() -> None:
    v6 = ApiVersion.parse("v6.20230315")
    assert "per-kernel-logs" not in features_for(v6, "24.03.6")
    assert "per-kernel-logs" in features_for(v6, "24.03.7")
    flags_26 = features_for(v6, "26.9.6")
    assert {"per-kernel-logs", "vfolder-trash-bin", "pending-session-list", "agent-select"} <= (
        flags_26
    )
    assert "force2FA" in features_for(v6, "25.1.0")
    assert "force2FA" not in flags_26  # the JS SDK withdraws it from 25.09.0
    assert "2FA" in flags_26


@pytest.mark.parametrize(
    ("manager", "expected"),
    [
        ("24.03.11", False),
        ("24.03.12", True),
        ("24.09.5", False),
        ("24.09.6", True),
        ("24.12.1", False),
        ("25.1.0", True),
        ("26.9.6", True),
    ],
)
def test_back_ported_flags_use_the_managers_own_line(manager: str, expected: bool) -> None:
    assert manager_at_least(manager, ["25.1.0", "24.09.6", "24.03.12"]) is expected
    flags = features_for(ApiVersion.parse("v6.20230315"), manager)
    assert ("vfolder-id-based" in flags) is expected


def test_compat_table_routes_and_fields() -> None:
    v4 = compat_for(ApiVersion.parse("v4.20190615"))
    v6 = compat_for(ApiVersion.parse("v6.20230315"))
    v3 = compat_for(ApiVersion.parse("v3.20170615"))
    assert (v4.session_prefix, v4.create_session_path, v4.session_name_field) == (
        "/kernel",
        "/kernel/create",
        "sess_id",
    )
    assert (v6.session_prefix, v6.create_session_path, v6.session_name_field) == (
        "/session",
        "/session",
        "session_name",
    )
    assert v3.hashes_body
    assert not v4.hashes_body
    assert v3.resource_slots_path == "/etcd/resource-slots"
    assert v6.resource_slots_path == "/config/resource-slots"
