"""Attaching the dashboard to the API's app, and how every page route answers: a signed-in
user or a redirect to the sign-in page, a 404 page for what the user cannot use, and 503
while the browser assets are not built.

Two signals of the page routes, caught there and never shown as errors:

UsageError
├── SignInNeeded    no valid session: redirect to the sign-in page
└── NotFound
    └── Hidden      a page the user may not use (an admin page for a member): the 404 page
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from amc_manager.api.deps import ApiState
from amc_manager.api.security import SESSION_COOKIE
from amc_manager.errors import UsageError
from amc_manager.service.access import Actor
from amc_manager.service.errors import NotFound, NotPermitted
from amc_manager.web.assets import STATIC, load_assets
from amc_manager.web.render import assets_missing, not_found, to_sign_in


class SignInNeeded(UsageError):
    """No valid session: the page redirects to the sign-in page."""


class Hidden(NotFound):
    """What the user may not use (an admin page for a member): the 404 page, like the rest."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a page and the CSRF token its scripts send."""

    actor: Actor
    csrf: str

    @property
    def email(self) -> str:
        return self.actor.email

    def context(self) -> dict[str, Any]:
        return {"me": self.actor, "csrf": self.csrf}


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


async def viewer(request: Request) -> Viewer:
    """The page's user from the session cookie (pages take no API tokens)."""
    from amc_manager.service.users import session_actor

    state = api_state(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    session = state.signer.read(cookie) if cookie else None
    if session is None:
        raise SignInNeeded("sign in to see this page", hint="sign in with your e-mail and password")
    found = await session_actor(state.runtime, session.user_id, session.epoch)
    if found is None:
        raise SignInNeeded("sign in to see this page", hint="sign in with your e-mail and password")
    request.state.viewer = Viewer(found, state.signer.csrf_token(session))
    return request.state.viewer  # type: ignore[no-any-return]


async def optional_viewer(request: Request) -> Viewer | None:
    try:
        return await viewer(request)
    except SignInNeeded:
        return None


class PageRoute(APIRoute):
    """Answers of every page: 503 without assets, the sign-in redirect, the 404 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            assets = request.app.state.web_assets
            if not assets.ok:
                return assets_missing(assets)
            try:
                return await handler(request)
            except SignInNeeded:
                return to_sign_in(request)
            except (NotFound, NotPermitted):
                seen: Viewer | None = getattr(request.state, "viewer", None)
                return not_found(request, seen.context() if seen else {})

        return page


def mount(app: FastAPI) -> None:
    """The pages and `/static` on `app`; assets looked for once, a warning when missing."""
    from amc_manager.web.pages import router

    app.state.web_assets = load_assets()
    app.include_router(router, include_in_schema=False)
    # Compressed here only: gzip around the whole app would buffer the event streams.
    static = GZipMiddleware(StaticFiles(directory=STATIC, check_dir=False), minimum_size=500)
    app.mount("/static", static, name="static")
