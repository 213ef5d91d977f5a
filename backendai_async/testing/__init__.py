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

__all__ = [
    "EXAMPLE_KEYPAIRS",
    "STATE_KEY",
    "BackendAITestServer",
    "Fault",
    "Keypair",
    "RecordedRequest",
    "RouteInstaller",
    "ServerState",
    "VerifyResult",
    "build_app",
    "problem_response",
    "verify_signature",
]
