"""An embedded fake Backend.AI manager for tests: real HTTP on loopback, real signature checks.

It shares no code with the SDK (its verifier is written independently), records every
request it receives, and can inject faults (stalls, drops, truncated or odd bodies).
"""

from ._etcd import EXAMPLE_ETCD, EXAMPLE_RESOURCE_SLOTS
from ._events import (
    EventHub,
    FakeBackgroundTask,
    StreamFaults,
    event_hub,
    register_event_routes,
    start_background_task,
)
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
from ._services import EXAMPLE_MODEL_FOLDERS
from ._sessions import (
    DEFAULT_IMAGE,
    DEFAULT_TEMPLATE_ID,
    SESSIONS_KEY,
    FakeSession,
    SessionStore,
    UploadRecord,
    register_session_routes,
    session_store,
)
from ._storage_proxy import FakeStorageProxy, ProxyDownload, ProxyRequest, ProxyUpload
from ._streams import StreamSettings, register_stream_routes, stream_settings
from ._verify import VerifyResult, verify_signature
from ._vfolders import (
    DEFAULT_VFOLDER_HOST,
    VFOLDERS_KEY,
    FakeVFolder,
    VFolderStore,
    register_vfolder_routes,
    vfolder_store,
)
from ._webserver import (
    EXAMPLE_WEB_USERS,
    BackendAITestWebserver,
    WebRecordedRequest,
    WebUser,
)

__all__ = [
    "DEFAULT_IMAGE",
    "DEFAULT_TEMPLATE_ID",
    "DEFAULT_VFOLDER_HOST",
    "EXAMPLE_ETCD",
    "EXAMPLE_KEYPAIRS",
    "EXAMPLE_MODEL_FOLDERS",
    "EXAMPLE_RESOURCE_SLOTS",
    "EXAMPLE_WEB_USERS",
    "SESSIONS_KEY",
    "STATE_KEY",
    "VFOLDERS_KEY",
    "BackendAITestServer",
    "BackendAITestWebserver",
    "EventHub",
    "FakeBackgroundTask",
    "FakeSession",
    "FakeStorageProxy",
    "FakeVFolder",
    "Fault",
    "Keypair",
    "ProxyDownload",
    "ProxyRequest",
    "ProxyUpload",
    "RecordedRequest",
    "RouteInstaller",
    "ServerState",
    "SessionStore",
    "StreamFaults",
    "StreamSettings",
    "UploadRecord",
    "VFolderStore",
    "VerifyResult",
    "WebRecordedRequest",
    "WebUser",
    "build_app",
    "event_hub",
    "problem_response",
    "register_event_routes",
    "register_session_routes",
    "register_stream_routes",
    "register_vfolder_routes",
    "session_store",
    "start_background_task",
    "stream_settings",
    "verify_signature",
    "vfolder_store",
]
