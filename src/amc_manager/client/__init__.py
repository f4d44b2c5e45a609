"""The async AMC API client: identity, auth, retries, rate limits, errors, audit."""

from __future__ import annotations

from amc_manager.client.audit import (
    AuditContext,
    AuditEvent,
    AuditSink,
    LoggingAuditSink,
    MemoryAuditSink,
)
from amc_manager.client.cache import TtlCache
from amc_manager.client.client import AmcClient, UncertainOutcome
from amc_manager.client.crypto import TokenCipher
from amc_manager.client.errors import (
    AmcApiError,
    AmcError,
    AmcTransportError,
    AuthenticationError,
    DownloadUnavailable,
    ExecutionFailed,
    ExecutionRejected,
    InvalidIdentity,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    ReauthenticationRequired,
    ServerError,
    ValidationError,
)
from amc_manager.client.identity import AccountRef, InstanceRef, Region
from amc_manager.client.models import (
    Account,
    DataSource,
    DownloadUrls,
    Execution,
    ExecutionRequest,
    Instance,
    Workflow,
)
from amc_manager.client.ratelimit import RateLimiter, RequestBudget
from amc_manager.client.retry import RetryPolicy, parse_retry_after
from amc_manager.client.secret import Secret
from amc_manager.client.tokens import (
    AccessToken,
    InMemoryTokenStore,
    LwaCredentials,
    TokenManager,
    TokenStore,
)

__all__ = [
    "AccessToken",
    "Account",
    "AccountRef",
    "AmcApiError",
    "AmcClient",
    "AmcError",
    "AmcTransportError",
    "AuditContext",
    "AuditEvent",
    "AuditSink",
    "AuthenticationError",
    "DataSource",
    "DownloadUnavailable",
    "DownloadUrls",
    "Execution",
    "ExecutionFailed",
    "ExecutionRejected",
    "ExecutionRequest",
    "InMemoryTokenStore",
    "Instance",
    "InstanceRef",
    "InvalidIdentity",
    "LoggingAuditSink",
    "LwaCredentials",
    "MemoryAuditSink",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitedError",
    "RateLimiter",
    "ReauthenticationRequired",
    "Region",
    "RequestBudget",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "TokenCipher",
    "TokenManager",
    "TokenStore",
    "TtlCache",
    "UncertainOutcome",
    "ValidationError",
    "Workflow",
    "parse_retry_after",
]
