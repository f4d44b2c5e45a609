"""Web sessions: sign in with a password, sign out, and the one-time sign-in link."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from amc_manager.api.deps import CallerDep, StateDep
from amc_manager.api.problems import ApiProblem, documented
from amc_manager.api.routes.common import PREFIX
from amc_manager.api.schemas import SessionIn, SessionOut, UserOut
from amc_manager.api.security import SESSION_COOKIE, SESSION_SECONDS
from amc_manager.service.access import Actor

router = APIRouter(tags=["session"])


def _set_cookie(response: Response, request: Request, state: StateDep, who: Actor) -> str:
    cookie, session = state.signer.issue(who.id, who.session_epoch)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return state.signer.csrf_token(session)


@router.post(
    f"{PREFIX}/session",
    summary="Sign in with an e-mail and password; sets the session cookie.",
    response_model=SessionOut,
    responses=documented(400, 401, 413, 422, 429),
)
async def sign_in(
    body: SessionIn, request: Request, response: Response, state: StateDep
) -> SessionOut:
    from amc_manager.service.users import check_password, me

    keys = (f"email:{body.email.strip().lower()}", f"client:{_client(request)}")
    wait = state.throttle.retry_after(*keys)
    if wait is not None:
        raise ApiProblem(
            429,
            "too many failed sign-ins",
            slug="sign-in-throttled",
            hint="wait, then try again",
            headers={"Retry-After": str(round(wait))},
        )
    delay = state.throttle.delay(*keys)
    if delay:
        await asyncio.sleep(delay)
    who = await check_password(state.runtime, body.email.strip(), body.password)
    if who is None:
        state.throttle.failed(*keys)
        raise ApiProblem(401, "wrong e-mail or password", slug="sign-in-failed")
    state.throttle.succeeded(keys[0])
    csrf = _set_cookie(response, request, state, who)
    user = await me(state.runtime, who.email)
    return SessionOut(csrf_token=csrf, user=UserOut(**user.to_json()))


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.delete(
    f"{PREFIX}/session",
    summary="Sign out: ends every session of the user at once.",
    status_code=204,
    responses=documented(401, 403),
)
async def sign_out(who: CallerDep, state: StateDep, response: Response) -> Response:
    from amc_manager.service.users import sign_out_everywhere

    if who.session is not None:
        await sign_out_everywhere(state.runtime, who.actor.id)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(
    "/signin/{token}",
    summary="A one-time sign-in link (printed by `amc serve` in sandbox mode).",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Signed in; on to the dashboard."}, **documented(404)},
)
async def sign_in_link(token: str, request: Request, state: StateDep) -> RedirectResponse:
    from amc_manager.service.users import redeem_signin_link

    who = await redeem_signin_link(state.runtime, token)
    if who is None:
        raise ApiProblem(404, "the sign-in link is unknown, used or expired", slug="link")
    response = RedirectResponse("/", status_code=303)
    _set_cookie(response, request, state, who)
    return response
