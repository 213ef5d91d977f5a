"""backendai_async: an asyncio-native client SDK for Backend.AI.

>>> from backendai_async import Client, ClientConfig
>>> async with Client(ClientConfig.from_env()) as client:
...     print(await client.get_manager_version())
"""

from ._abort import AbortController, AbortSignal
from ._event_stream import EventStream
from ._login import LoginResult, LoginState
from ._sse import SSEEvent
from .client import Client, ClientState, __version__
from .config import ClientConfig, ConnectionMode
from .errors import (
    AbortError,
    AuthenticationError,
    ClientClosedError,
    ClientError,
    ErrorType,
    GraphQLError,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    SessionStateError,
    UnderlyingError,
    UnknownError,
    UnsupportedFeatureError,
    WebSocketClosedError,
)
from .resources._vfolder_types import (
    DownloadToken,
    UploadToken,
    VFolderFile,
    VFolderFileList,
    VFolderHosts,
    VFolderInfo,
)
from .resources.admin_types import (
    Agent,
    Domain,
    Image,
    KeyPair,
    MutationResult,
    Project,
    ResourcePolicy,
    ResourcePreset,
    ScalingGroup,
    StorageVolume,
    User,
)
from .resources.compute_sessions import ContainerRow, SessionList, SessionRow
from .resources.events import BackgroundTaskEvent, SessionEvent
from .resources.sessions import ByteStream, SessionResources
from .resources.streams import ExecuteStream, ProxyStream, PtyStream
from .timeouts import USE_DEFAULT, Timeouts
from .types import (
    ExecuteResult,
    ExecutionResult,
    ServerVersion,
    ServicePort,
    SessionCreated,
    SessionInfo,
    SessionLogs,
)
from .version import ApiVersion

__all__ = [
    "USE_DEFAULT",
    "AbortController",
    "AbortError",
    "AbortSignal",
    "Agent",
    "ApiVersion",
    "AuthenticationError",
    "BackgroundTaskEvent",
    "ByteStream",
    "Client",
    "ClientClosedError",
    "ClientConfig",
    "ClientError",
    "ClientState",
    "ConnectionMode",
    "ContainerRow",
    "Domain",
    "DownloadToken",
    "ErrorType",
    "EventStream",
    "ExecuteResult",
    "ExecuteStream",
    "ExecutionResult",
    "GraphQLError",
    "Image",
    "KeyPair",
    "LoginResult",
    "LoginState",
    "MutationResult",
    "Project",
    "ProxyStream",
    "PtyStream",
    "RequestError",
    "RequestTimeoutError",
    "ResourcePolicy",
    "ResourcePreset",
    "ResponseError",
    "SSEEvent",
    "ScalingGroup",
    "ServerError",
    "ServerVersion",
    "ServicePort",
    "SessionCreated",
    "SessionEvent",
    "SessionInfo",
    "SessionList",
    "SessionLogs",
    "SessionResources",
    "SessionRow",
    "SessionStateError",
    "StorageVolume",
    "Timeouts",
    "UnderlyingError",
    "UnknownError",
    "UnsupportedFeatureError",
    "UploadToken",
    "User",
    "VFolderFile",
    "VFolderFileList",
    "VFolderHosts",
    "VFolderInfo",
    "WebSocketClosedError",
    "__version__",
]
