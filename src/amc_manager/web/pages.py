"""The dashboard's pages: each reads through the application layer as the signed-in user and
renders a template; live parts and actions call the REST API from the browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from amc_manager.web.mount import Hidden, PageRoute, Viewer, api_state, optional_viewer, viewer
from amc_manager.web.render import STATES, render

router = APIRouter(route_class=PageRoute)
ViewerDep = Annotated[Viewer, Depends(viewer)]
Text = Annotated[str | None, Query(max_length=200)]


def _page(request: Request, who: Viewer, template: str, **context: Any) -> Response:
    state = api_state(request)
    return render(
        request,
        template,
        {**who.context(), "sandbox_mode": state.runtime.sandbox_mode, **context},
    )


# --- signing in ---------------------------------------------------------------------------------


@router.get("/signin")
async def sign_in_page(
    request: Request, who: Annotated[Viewer | None, Depends(optional_viewer)], next: Text = None
) -> Response:
    target = next if next and next.startswith("/") and not next.startswith("//") else "/"
    if who is not None:
        return RedirectResponse(target, status_code=303)
    state = api_state(request)
    return render(
        request,
        "signin.html",
        {"next": target, "sandbox_mode": state.runtime.sandbox_mode, "title": "Sign in"},
    )


# --- instances ----------------------------------------------------------------------------------


@router.get("/")
@router.get("/instances")
async def instances_page(request: Request, who: ViewerDep) -> Response:
    from amc_manager.service.dashboard import instance_queues

    queues = await instance_queues(api_state(request).runtime, who.email)
    return _page(request, who, "instances.html", title="Instances", queues=queues)


# --- the query editor ---------------------------------------------------------------------------


@router.get("/editor")
async def editor_page(
    request: Request,
    who: ViewerDep,
    instance: Text = None,
    library: Text = None,
    execution: Text = None,
) -> Response:
    from amc_manager.service.access import list_instances
    from amc_manager.service.dashboard import schema_tables
    from amc_manager.service.library import get_entry, list_entries

    runtime = api_state(request).runtime
    usable = [v for v in await list_instances(runtime, who.email) if v.access.value != "admin"]
    chosen = next((v for v in usable if instance in (v.id, v.instance_id)), None)
    if instance and chosen is None:
        raise Hidden("no such page for this user", hint="ask an admin for access")
    chosen = chosen or (usable[0] if usable else None)
    sql, params, window = await _starting_point(request, who, execution)
    if library and not sql:
        sql = get_entry(library).sql
    tables = await schema_tables(runtime, who.email, chosen.instance_id if chosen else None)
    entries = [{"name": e.name, "title": e.title, "question": e.question} for e in list_entries()]
    today = datetime.now(UTC).date()
    return _page(
        request,
        who,
        "editor.html",
        title="Query editor",
        instances=usable,
        chosen=chosen,
        boot={
            "sql": sql or DEFAULT_SQL,
            "parameters": params,
            "window": window,
            "tables": tables,
            "library": entries,
            "today": today.isoformat(),
        },
    )


DEFAULT_SQL = (
    "-- Impressions and reach by campaign\n"
    "SELECT campaign, SUM(impressions) AS impressions, COUNT(DISTINCT user_id) AS reach\n"
    "FROM dsp_impressions\n"
    "GROUP BY campaign\n"
)


async def _starting_point(
    request: Request, who: Viewer, execution: str | None
) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """SQL, parameters and window to start from: an earlier execution's (run again)."""
    if not execution:
        return None, {}, {}
    from amc_manager.service.executions import find_execution

    row = await find_execution(api_state(request).runtime, who.email, execution, full=True)
    window = {
        "type": row.time_window_type,
        "start": row.time_window_start,
        "end": row.time_window_end,
        "time_zone": row.time_zone,
    }
    return row.sql, dict(row.parameter_values or {}), window


# --- executions ---------------------------------------------------------------------------------


@router.get("/executions")
async def executions_page(
    request: Request,
    who: ViewerDep,
    instance_id: Text = None,
    state: Text = None,
    before: Text = None,
) -> Response:
    from amc_manager.service.access import list_instances
    from amc_manager.service.executions import list_executions

    runtime = api_state(request).runtime
    instance_id = instance_id or None
    state = state if state in STATES else None
    position = _before(before)
    views = await list_executions(
        runtime, who.email, instance=instance_id, state=state, limit=51, before=position
    )
    more = None
    if len(views) > 50:
        views = views[:50]
        last = views[-1].row
        more = f"{last.created_at!r}~{last.id}"
    return _page(
        request,
        who,
        "executions.html",
        title="Executions",
        views=views,
        instances=await list_instances(runtime, who.email),
        instance_id=instance_id,
        state=state,
        more=more,
    )


def _before(text: str | None) -> tuple[float, str] | None:
    if not text or "~" not in text:
        return None
    at, _, last = text.partition("~")
    try:
        return float(at), last
    except ValueError:
        return None


@router.get("/executions/{execution_id}")
async def execution_page(request: Request, who: ViewerDep, execution_id: str) -> Response:
    from amc_manager.service.executions import show_execution

    runtime = api_state(request).runtime
    view = await show_execution(runtime, who.email, execution_id, full=True)
    row = view.row
    may_cancel = (row.user_id == who.actor.id or who.actor.is_admin) and not row.terminal
    return _page(
        request,
        who,
        "execution.html",
        title=f"Execution {row.id[:8]}",
        view=view,
        item=view.to_json(),
        may_cancel=may_cancel,
    )


# --- tokens and admin ---------------------------------------------------------------------------


@router.get("/tokens")
async def tokens_page(request: Request, who: ViewerDep) -> Response:
    from amc_manager.service.tokens import list_tokens

    tokens = await list_tokens(api_state(request).runtime, who.email)
    return _page(request, who, "tokens.html", title="API tokens", tokens=tokens)


@router.get("/admin")
async def admin_page(request: Request, who: ViewerDep) -> Response:
    from amc_manager.service.dashboard import grants_table

    if not who.actor.is_admin:
        raise Hidden("no such page for this user", hint="ask an admin for access")
    instances, rows = await grants_table(api_state(request).runtime, who.email)
    return _page(
        request, who, "admin.html", title="Users and grants", instances=instances, rows=rows
    )


@router.get("/admin/audit")
async def audit_page(
    request: Request,
    who: ViewerDep,
    user: Text = None,
    instance_id: Text = None,
    since: Text = None,
    until: Text = None,
    before: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    from amc_manager.service.audit import AuditQuery, audit_rows

    query = AuditQuery(
        user=user or None,
        instance_id=instance_id or None,
        since=_day(since),
        until=_day(until, end=True),
        limit=51,
        before=before,
    )
    rows = await audit_rows(api_state(request).runtime, who.email, query)
    more = rows[49]["id"] if len(rows) > 50 else None
    return _page(
        request,
        who,
        "audit.html",
        title="Audit log",
        rows=rows[:50],
        more=more,
        filters={"user": user or "", "instance_id": instance_id or "", "since": since or ""}
        | {"until": until or ""},
    )


def _day(text: str | None, *, end: bool = False) -> float | None:
    """A date field (`2026-12-01`) as an epoch; `end`: the end of that day."""
    if not text:
        return None
    try:
        day = datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None
    return day.timestamp() + (86400 if end and len(text) <= 10 else 0)


# --- schedules ----------------------------------------------------------------------------------

EVERY = (
    "day",
    "week",
    *(f"week:{d}" for d in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")),
    "month",
    "month:last",
    "month:first-business-day",
)
WINDOWS = ("last:7d", "last:7d:lag:2d", "last:1d:lag:2d", "previous-week", "previous-month")
WINDOWS_MORE = ("month-to-date", "week-to-date")


@router.get("/schedules")
async def schedules_page(request: Request, who: ViewerDep) -> Response:
    from amc_manager.service.schedules import list_schedules

    views = await list_schedules(api_state(request).runtime, who.email, limit=200)
    items = [v.to_json() for v in views]
    return _page(request, who, "schedules.html", title="Schedules", items=items)


@router.get("/schedules/new")
async def new_schedule_page(request: Request, who: ViewerDep, instance: Text = None) -> Response:
    from amc_manager.service.access import list_instances

    usable = [
        v
        for v in await list_instances(api_state(request).runtime, who.email)
        if v.access.value != "admin"
    ]
    return _page(
        request,
        who,
        "schedule_new.html",
        title="New schedule",
        instances=usable,
        chosen=instance,
        every=EVERY,
        windows=WINDOWS + WINDOWS_MORE,
        sql=DEFAULT_SQL,
    )


@router.get("/schedules/{schedule_id}")
async def schedule_page(request: Request, who: ViewerDep, schedule_id: str) -> Response:
    from amc_manager.service.schedules import show

    view = await show(api_state(request).runtime, who.email, schedule_id, full=True)
    item = view.to_json()
    mine = view.row.user_id == who.actor.id or who.actor.is_admin
    return _page(
        request,
        who,
        "schedule.html",
        title=f"Schedule {item['name'] or item['id'][:8]}",
        item=item,
        may_change=mine,
    )


# --- collections --------------------------------------------------------------------------------

SPLITS = (
    "week",
    "day",
    "month",
    *(f"week:{d}" for d in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")),
)


@router.get("/collections")
async def collections_page(request: Request, who: ViewerDep) -> Response:
    from amc_manager.service.collections import list_collections

    views = await list_collections(api_state(request).runtime, who.email, limit=200)
    items = [v.to_json() for v in views]
    return _page(request, who, "collections.html", title="Collections", items=items)


@router.get("/collections/new")
async def new_collection_page(request: Request, who: ViewerDep) -> Response:
    from amc_manager.service.access import list_instances

    usable = [
        v
        for v in await list_instances(api_state(request).runtime, who.email)
        if v.access.value != "admin"
    ]
    monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    return _page(
        request,
        who,
        "collection_new.html",
        title="New collection",
        instances=usable,
        splits=SPLITS,
        sql=DEFAULT_SQL,
        start=(monday - timedelta(days=42)).isoformat(),  # the six full weeks before this one
        end=(monday - timedelta(days=1)).isoformat(),
    )


@router.get("/collections/{collection_id}")
async def collection_page(request: Request, who: ViewerDep, collection_id: str) -> Response:
    from amc_manager.service.collections import show

    view = await show(api_state(request).runtime, who.email, collection_id, full=True)
    item = view.to_json()
    windows: list[tuple[str, str]] = []
    grid: dict[tuple[str, str, str], dict[str, Any]] = {}
    for cell in item.get("cells", []):
        window = (cell["window_start"], cell["window_end"])
        if window not in windows:
            windows.append(window)
        grid[(*window, cell["instance_id"])] = cell
    return _page(
        request,
        who,
        "collection.html",
        title=f"Collection {item['name'] or item['id'][:8]}",
        item=item,
        windows=sorted(windows),
        grid=grid,
        may_change=view.row.user_id == who.actor.id or who.actor.is_admin,
    )
