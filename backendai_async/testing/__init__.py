"""An embedded fake Backend.AI manager for tests: real HTTP on loopback, real signature checks.

It shares no code with the SDK (its verifier is written independently), records every
request it receives, and can inject faults (stalls, drops, truncated or odd bodies).
"""

from ._faults import Fault
from ._manager import (
    EXAMPLE_KEYPAIRS,
    STATE_KEY,
    BackendAITestServer,
    Keypair,
    RecordedRequest,
    RouteInstaller,
    ServerState,
    build_app,
    problem_response,
)
from ._verify import VerifyResult, verify_signature
from ._webserver import (
    EXAMPLE_WEB_USERS,
    BackendAITestWebserver,
    WebRecordedRequest,
    WebUser,
)

__all__ = [
    "EXAMPLE_KEYPAIRS",
    "EXAMPLE_WEB_USERS",
    "STATE_KEY",
    "BackendAITestServer",
    "BackendAITestWebserver",
    "Fault",
    "Keypair",
    "RecordedRequest",
    "RouteInstaller",
    "ServerState",
    "VerifyResult",
    "WebRecordedRequest",
    "WebUser",
    "build_app",
    "problem_response",
    "verify_signature",
]
