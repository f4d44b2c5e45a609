"""Jinja2 rendering of pages: one environment, the page chrome's context, the strict content
security policy pages carry, and the 404, 503 and sign-in answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from amc_manager.web.assets import BUILD_COMMAND, Assets

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Scripts and styles come from this server only (no CDN); CodeMirror and uPlot set element
# styles from script, which 'unsafe-inline' for styles allows (never for scripts).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
STATES = ("queued", "submitting", "pending", "running", "downloading") + (
    "succeeded",
    "failed",
    "cancelled",
    "rejected",
)


def _when(value: str | float | None) -> str:
    """ISO or epoch times as `2026-12-06 07:04 UTC`."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _local(value: str | None) -> str:
    """`2026-12-07T06:00:00-05:00` as `2026-12-07 06:00 (UTC-05:00)`: the zone's wall clock."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.strftime("%z")
    shown = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{moment:%Y-%m-%d %H:%M} ({shown})" if shown else f"{moment:%Y-%m-%d %H:%M}"


def _short(value: str | None, size: int = 8) -> str:
    return "" if value is None else value[:size]


def _as_json(value: Any) -> Markup:
    """JSON for a `<script type="application/json">` block: `<` escaped so no tag can end it."""
    text = json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")
    return Markup(text)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["short"] = _short
    env.filters["local"] = _local
    env.filters["as_json"] = _as_json
    env.filters["urlquote"] = lambda v: quote(str(v), safe="")
    env.globals["STATES"] = STATES
    return env


ENV = environment()


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """A page with the chrome's context (who, CSRF token, asset URLs) and the page CSP."""
    assets: Assets = request.app.state.web_assets
    page = ENV.get_template(template).render(
        {"request": request, "asset": assets.url, "path": request.url.path, **context}
    )
    return HTMLResponse(page, status_code=status, headers=_headers())


def _headers() -> dict[str, str]:
    return {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}


def not_found(request: Request, context: dict[str, Any]) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {**context, "title": "Not found", "status": 404, "message": "There is nothing here."},
        status=404,
    )


def assets_missing(assets: Assets) -> HTMLResponse:
    """Plain (no bundle to link): which files are missing and the command that builds them."""
    missing = ", ".join(assets.missing)
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Dashboard not built"
        "</title></head><body><main><h1>The web dashboard is not built</h1>"
        f"<p>Its browser assets are missing ({missing}). Run <code>{BUILD_COMMAND}</code> "
        "in the project folder, then restart <code>amc serve</code>.</p>"
        "<p>The REST API under <code>/api/v1</code> works meanwhile.</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=503, headers={**_headers(), "Retry-After": "60"})


def to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
