"""Which real Backend.AI servers the integration tier runs against, from the environment.

Pure configuration (no pytest, no SDK): ``make test-real`` (through ``servers.py``) and the
tier's conftest read the same list. Every variable is documented in ``docs/testing.md``.

``BACKENDAI_REAL_TARGETS`` is a comma-separated list of labels (default ``23.09,26.9``, the
two harnesses of ``../shared``). Each label ``L`` reads ``BACKENDAI_REAL_<L>_<NAME>`` first
(the label upper-cased, every other character than a letter or digit as ``_``: ``23.09`` →
``BACKENDAI_REAL_23_09_MANAGER``), then ``BACKENDAI_REAL_<NAME>``, then the harness default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["HARNESSES", "Target", "env_name", "load_targets"]

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TARGETS = "23.09,26.9"

# The example keys and accounts of both harnesses (the well-known Backend.AI example values).
_DEFAULTS = {
    "ADMIN_ACCESS_KEY": "AKIAIOSFODNN7EXAMPLE",
    "ADMIN_SECRET_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "USER_ACCESS_KEY": "AKIANABBDUSEREXAMPLE",
    "USER_SECRET_KEY": "C8qnIo29EZvXkPK_MXcuAakYTy4NYrxwmCEyNPlf",
    "USER_EMAIL": "user@lablup.com",
    "IMAGE": "cr.backend.ai/stable/python:3.9-ubuntu20.04",
    "GROUP": "default",
}


@dataclass(frozen=True)
class Harness:
    """A server that ``../shared/<directory>/up.sh`` starts on loopback."""

    directory: str
    manager: str
    webserver: str


HARNESSES: Mapping[str, Harness] = {
    "23.09": Harness("real-backend", "http://127.0.0.1:8081", "http://127.0.0.1:8090"),
    "26.9": Harness("real-backend-26", "http://127.0.0.1:18081", "http://127.0.0.1:18090"),
}


@dataclass(frozen=True, repr=False)
class Target:
    """One real server: its endpoints, the accounts the tests use, and how to start it."""

    label: str
    manager: str
    webserver: str
    admin: tuple[str, str]
    user: tuple[str, str]
    user_email: str
    user_password: str
    image: str
    group: str
    up_script: Path | None  # the harness's up.sh when the tier may start it, else None

    @property
    def env_prefix(self) -> str:
        return env_name(self.label, "")

    def how_to_start(self) -> str:
        """What to do when this server is not reachable."""
        prefix = self.env_prefix
        if self.up_script is not None and self.up_script.is_file():
            start = f"start it with `bash {self.up_script}` (or `make test-real`)"
        elif self.up_script is not None:
            start = f"start a Backend.AI {self.label} server (no harness at {self.up_script})"
        else:
            start = "start that server"
        return (
            f"{start}, or point {prefix}MANAGER / {prefix}WEBSERVER at a running one, or leave "
            f"{self.label!r} out of BACKENDAI_REAL_TARGETS"
        )

    def __repr__(self) -> str:  # no secrets
        return f"Target({self.label!r}, manager={self.manager!r}, webserver={self.webserver!r})"


def env_name(label: str, name: str) -> str:
    """``BACKENDAI_REAL_<LABEL>_<NAME>`` for a target label such as ``23.09``."""
    return f"BACKENDAI_REAL_{re.sub(r'[^A-Za-z0-9]', '_', label).upper()}_{name}"


def shared_dir(environ: Mapping[str, str]) -> Path:
    """Where the harnesses live: ``BACKENDAI_REAL_SHARED``, else ``../shared`` of the clone."""
    value = environ.get("BACKENDAI_REAL_SHARED")
    return Path(value).resolve() if value else REPO.parent / "shared"


def load_targets(environ: Mapping[str, str] | None = None) -> list[Target]:
    """The configured targets; a label without a known harness must name its manager."""
    env = os.environ if environ is None else environ
    labels = [x.strip() for x in env.get("BACKENDAI_REAL_TARGETS", DEFAULT_TARGETS).split(",")]
    labels = [x for x in labels if x]
    if not labels:
        raise ValueError("BACKENDAI_REAL_TARGETS names no server")
    if len(set(labels)) != len(labels):
        raise ValueError(f"BACKENDAI_REAL_TARGETS repeats a label: {labels}")
    shared = shared_dir(env)
    return [_target(label, env, shared) for label in labels]


def _target(label: str, env: Mapping[str, str], shared: Path) -> Target:
    harness = HARNESSES.get(label)

    def get(name: str, default: str | None = None) -> str:
        value = env.get(env_name(label, name))
        if not value and name not in ("MANAGER", "WEBSERVER"):  # endpoints are per target
            value = env.get(f"BACKENDAI_REAL_{name}")
        if value:
            return value
        value = _DEFAULTS.get(name, default)
        if value is None:
            raise ValueError(
                f"target {label!r} of BACKENDAI_REAL_TARGETS is no known harness "
                f"({', '.join(HARNESSES)}): set {env_name(label, name)}"
            )
        return value

    manager_override = env.get(env_name(label, "MANAGER"))
    manager = get("MANAGER", harness.manager if harness else None).rstrip("/")
    webserver = get("WEBSERVER", harness.webserver if harness else None).rstrip("/")
    up_script = None
    if harness is not None and not manager_override:
        up_script = shared / harness.directory / "up.sh"
    user_secret = get("USER_SECRET_KEY")
    return Target(
        label=label,
        manager=manager,
        webserver=webserver,
        admin=(get("ADMIN_ACCESS_KEY"), get("ADMIN_SECRET_KEY")),
        user=(get("USER_ACCESS_KEY"), user_secret),
        user_email=get("USER_EMAIL"),
        user_password=get("USER_PASSWORD", user_secret),
        image=get("IMAGE"),
        group=get("GROUP"),
        up_script=up_script,
    )
