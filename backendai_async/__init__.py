"""backendai_async: an asyncio-native client SDK for Backend.AI.

>>> from backendai_async import Client, ClientConfig
>>> async with Client(ClientConfig.from_env()) as client:
...     print(await client.get_manager_version())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "AbortController": "._abort",
    "AbortSignal": "._abort",
    "EventStream": "._event_stream",
    "LoginResult": "._login",
    "LoginState": "._login",
    "SSEEvent": "._sse",
    "Client": ".client",
    "ClientState": ".client",
    "__version__": ".client",
    "ClientConfig": ".config",
    "ConnectionMode": ".config",
    "AbortError": ".errors",
    "AuthenticationError": ".errors",
    "ClientClosedError": ".errors",
    "ClientError": ".errors",
    "ErrorType": ".errors",
    "GraphQLError": ".errors",
    "RequestError": ".errors",
    "RequestTimeoutError": ".errors",
    "ResponseError": ".errors",
    "ServerError": ".errors",
    "SessionStateError": ".errors",
    "UnderlyingError": ".errors",
    "UnknownError": ".errors",
    "UnsupportedFeatureError": ".errors",
    "WebSocketClosedError": ".errors",
    "DownloadToken": ".resources._vfolder_types",
    "UploadToken": ".resources._vfolder_types",
    "VFolderFile": ".resources._vfolder_types",
    "VFolderFileList": ".resources._vfolder_types",
    "VFolderHosts": ".resources._vfolder_types",
    "VFolderInfo": ".resources._vfolder_types",
    "Agent": ".resources.admin_types",
    "Domain": ".resources.admin_types",
    "Image": ".resources.admin_types",
    "KeyPair": ".resources.admin_types",
    "MutationResult": ".resources.admin_types",
    "Project": ".resources.admin_types",
    "ResourcePolicy": ".resources.admin_types",
    "ResourcePreset": ".resources.admin_types",
    "ScalingGroup": ".resources.admin_types",
    "StorageVolume": ".resources.admin_types",
    "User": ".resources.admin_types",
    "ContainerRow": ".resources.compute_sessions",
    "SessionList": ".resources.compute_sessions",
    "SessionRow": ".resources.compute_sessions",
    "BackgroundTaskEvent": ".resources.events",
    "SessionEvent": ".resources.events",
    "ByteStream": ".resources.sessions",
    "SessionResources": ".resources.sessions",
    "ExecuteStream": ".resources.streams",
    "ProxyStream": ".resources.streams",
    "PtyStream": ".resources.streams",
    "Timeouts": ".timeouts",
    "USE_DEFAULT": ".timeouts",
    "ExecuteResult": ".types",
    "ExecutionResult": ".types",
    "ServerVersion": ".types",
    "ServicePort": ".types",
    "SessionCreated": ".types",
    "SessionInfo": ".types",
    "SessionLogs": ".types",
    "ApiVersion": ".version",
}
"""Where each public name lives: imported on first use (PEP 562), so that
``from backendai_async import Client`` loads what a client needs and nothing else."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
