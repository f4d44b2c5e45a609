"""The signed-in user's Amazon connection: start Login with Amazon's consent, its callback,
and disconnecting."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel

from amc_manager.api.deps import Caller, CallerDep, MutatingCallerDep, StateDep
from amc_manager.api.problems import documented
from amc_manager.api.routes.common import PREFIX, WRITE
from amc_manager.api.schemas import InstanceOut
from amc_manager.api.security import SESSION_COOKIE

router = APIRouter(prefix=f"{PREFIX}/amazon", tags=["amazon"])
CALLBACK = f"{PREFIX}/amazon/callback"
Param = Annotated[str | None, Query(max_length=2048)]


class AmazonConnected(BaseModel):
    """The callback's answer to an API client: who connected, and the instances they now reach."""

    email: str
    instances: list[InstanceOut]


class Disconnected(BaseModel):
    accounts: int


def _binding(caller: Caller) -> str:
    if caller.session is not None:
        return f"session:{caller.session.user_id}:{caller.session.nonce}"
    return f"token:{caller.token_key}"


def _callback_binding(request: Request, state: StateDep) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    session = state.signer.read(cookie) if cookie else None
    return None if session is None else f"session:{session.user_id}:{session.nonce}"


@router.get(
    "/connect",
    summary="Connect the caller's Amazon account: redirects to Login with Amazon's consent page "
    "with a single-use state bound to the caller's session (or API token).",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "On to the consent page (in sandbox mode, straight to the callback)."},
        **documented(400, 401, 422, 500, 502, 503),
    },
)
async def connect(
    request: Request,
    who: CallerDep,
    state: StateDep,
    sandbox_identity: Annotated[
        int | None,
        Query(
            ge=0,
            le=1000,
            description="The sandbox only: which of its Login with Amazon identities signs in "
            "on its consent page (0: the default; see the sandbox configuration's "
            "`identities`). Amazon's page ignores it, as OAuth servers ignore parameters they "
            "do not know.",
        ),
    ] = None,
) -> RedirectResponse:
    from amc_manager.service.auth import begin_connect

    redirect_uri = str(request.base_url).rstrip("/") + CALLBACK
    target = await begin_connect(
        state.runtime,
        who.email,
        binding=_binding(who),
        redirect_uri=redirect_uri,
        identity=sandbox_identity,
    )
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


@router.get(
    "/callback",
    summary="Login with Amazon's redirect back (open route): checks and consumes the state, "
    "stores the user's token encrypted, syncs their accounts, then redirects to `/` "
    "(a browser) or answers JSON (a connection started with an API token, or "
    "`Accept: application/json`).",
    response_model=AmazonConnected,
    responses={
        303: {"description": "Connected; on to the dashboard."},
        **documented(400, 409, 422, 500, 502, 503),
    },
)
async def callback(
    request: Request,
    state: StateDep,
    state_: Annotated[str | None, Query(alias="state", max_length=256)] = None,
    code: Param = None,
    error: Param = None,
) -> Response:
    from amc_manager.service.access import list_instances
    from amc_manager.service.auth import finish_connect

    pending = await finish_connect(
        state.runtime,
        state=state_,
        code=code,
        error=error,
        binding=_callback_binding(request, state),
    )
    wants_json = "application/json" in request.headers.get("accept", "")
    if pending.binding.startswith("session:") and not wants_json:
        return RedirectResponse("/", status_code=303)
    views = await list_instances(state.runtime, pending.email)
    body = AmazonConnected(
        email=pending.email, instances=[InstanceOut(**v.to_json()) for v in views]
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.delete(
    "/connection",
    summary="Disconnect the caller's Amazon account: deletes their token and connections "
    "(grants stay).",
    response_model=Disconnected,
    responses=WRITE,
)
async def disconnect(who: MutatingCallerDep, state: StateDep) -> Disconnected:
    from amc_manager.service.access import disconnect as remove

    return Disconnected(accounts=await remove(state.runtime, who.email))
