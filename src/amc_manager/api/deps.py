"""What routes depend on: the process's state, the runtime, and the authenticated caller.

Authentication happens once per request here: an `Authorization: Bearer` API token, or the
web session cookie (then unsafe methods need `X-CSRF-Token`). Authorization is the
application layer's (service.access): routes pass the caller's e-mail down and anything of an
instance the caller cannot use comes back as NotFound, REST's 404.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from amc_manager.api.metrics import ApiMetrics
from amc_manager.api.problems import ApiProblem
from amc_manager.api.security import (
    SESSION_COOKIE,
    RateLimiter,
    Session,
    SessionSigner,
    SignInThrottle,
)
from amc_manager.service.access import Actor
from amc_manager.service.runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER_HINT = "send `Authorization: Bearer <API token>` (amc tokens create) or sign in"


@dataclass
class ApiState:
    """Everything one `amc serve` process holds, made by the app's lifespan."""

    runtime: Runtime
    signer: SessionSigner
    metrics: ApiMetrics
    metrics_public: bool = False
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    draining: asyncio.Event = field(default_factory=asyncio.Event)
    event_poll: float = 1.0  # seconds between store reads of an event stream
    # One execution's stream (what a page watches after Run) reads one row: polled faster.
    execution_poll: float = 0.25


@dataclass(frozen=True)
class Caller:
    """The authenticated user and how they came: a token (its id) or a session."""

    actor: Actor
    token_key: str | None = None
    session: Session | None = None

    @property
    def email(self) -> str:
        return self.actor.email

    @property
    def limit_key(self) -> str:
        return self.token_key or f"session:{self.actor.id}"


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


# The dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread,
# a thread hop per request for a field read.
async def _state(request: Request) -> ApiState:
    return api_state(request)


async def runtime(request: Request) -> Runtime:
    return api_state(request).runtime


StateDep = Annotated[ApiState, Depends(_state)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]


def unauthenticated(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        detail,
        slug="unauthenticated",
        hint=BEARER_HINT,
        headers={"WWW-Authenticate": 'Bearer realm="amc-manager"'},
    )


async def caller(request: Request, state: StateDep) -> Caller:
    """The caller, or 401; with a session, unsafe methods without the CSRF token are 403.
    Kept on the request, so the access log can audit mutating calls."""
    found = await _authenticate(request, state)
    request.state.caller = found
    return found


async def _authenticate(request: Request, state: StateDep) -> Caller:
    from amc_manager.service.tokens import authenticate_token, token_hash
    from amc_manager.service.users import session_actor

    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated("the Authorization header is not `Bearer <API token>`")
        actor = await authenticate_token(state.runtime, token.strip())
        if actor is None:
            raise unauthenticated("the API token is unknown, revoked or expired")
        return Caller(actor, token_key=token_hash(token.strip())[:32])
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise unauthenticated("no credentials")
    session = state.signer.read(cookie)
    actor = None
    if session is not None:
        actor = await session_actor(state.runtime, session.user_id, session.epoch)
    if session is None or actor is None:
        raise unauthenticated("the session has ended; sign in again")
    if request.method not in SAFE_METHODS and not state.signer.csrf_ok(
        session, request.headers.get("x-csrf-token")
    ):
        raise ApiProblem(
            403,
            "the X-CSRF-Token header is missing or wrong",
            slug="csrf",
            hint="send the csrf_token that POST /api/v1/session answered",
        )
    return Caller(actor, session=session)


CallerDep = Annotated[Caller, Depends(caller)]


async def mutating_caller(caller: CallerDep, state: StateDep) -> Caller:
    """The caller of a mutating route, within their rate limit (429 with Retry-After)."""
    wait = state.limiter.take(caller.limit_key)
    if wait is not None:
        raise ApiProblem(
            429,
            "too many mutating requests",
            slug="rate-limited",
            hint="slow down; retry after the Retry-After seconds",
            headers={"Retry-After": str(max(1, round(wait + 0.5)))},
        )
    return caller


MutatingCallerDep = Annotated[Caller, Depends(mutating_caller)]


async def admin(caller: CallerDep) -> Caller:
    """Admin routes: anyone else is told the route needs an admin (403)."""
    if not caller.actor.is_admin:
        raise ApiProblem(403, f"{caller.email} is not an admin", slug="not-admin")
    return caller


AdminDep = Annotated[Caller, Depends(admin)]
