"""Keyboard alone, axe-core on every page (no serious or critical violation) in light and
dark mode, and screenshots of every page at 1280 px and 390 px (artifacts/web/, gitignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import ARTIFACTS, REPO, Server, new_context, session_client, sign_in
from tests.web.test_access import submit, wait_final
from tests.web.test_run_flow import window_days

AXE = REPO / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_the_run_flow_with_the_keyboard_alone(browser: Browser, server: Server) -> None:
    context = new_context(browser, server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/signin")
    tab_to(page, "#email")
    page.keyboard.type("local@amc-manager")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/signin" not in url)
    tab_to(page, 'a[href="/editor"]')
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/editor$"))
    tab_to(page, ".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.type("SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.keyboard.type("GROUP BY campaign")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")  # Tab leaves the editor (it never traps the focus)
    start, end = window_days()
    tab_to(page, "#start")
    page.keyboard.type(_date_keys(start))
    tab_to(page, "#end")
    page.keyboard.type(_date_keys(end))
    expect(page.locator("#amc-window")).to_contain_text(f"EXPLICIT {start}T00:00:00")
    tab_to(page, "#run")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]{36}$"))
    expect(page.locator("#state")).to_have_text("succeeded", timeout=30_000)
    tab_to(page, 'button.sort[data-column="1"]')
    page.keyboard.press("Enter")
    expect(page.locator("#rows thead th").nth(1)).to_have_attribute("aria-sort", "ascending")
    context.close()


def _date_keys(iso: str) -> str:
    """What a person types into Chromium's date field (month, day, year, en-US)."""
    year, month, day = iso.split("-")
    return f"{month}{day}{year}"


@pytest.fixture(scope="module")
def finished(server: Server) -> Iterator[dict[str, str]]:
    """An execution with rows, a schedule and a collection, for the pages showing them."""
    with session_client(server) as admin:
        ok = submit(admin, server)
        assert wait_final(admin, ok) == "succeeded"
        made = admin.post(
            "/api/v1/schedules",
            json={
                "instance_id": server.instances[0],
                "sql": "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions"
                " GROUP BY campaign",
                "every": "week",
                "window": "previous-week",
                "name": "axe weekly",
            },
        )
        assert made.status_code == 201, made.text
        start, end = window_days()
        batch = admin.post(
            "/api/v1/collections",
            json={
                "instance_ids": server.instances,
                "sql": "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions"
                " GROUP BY campaign",
                "start": start,
                "end": end,
                "every": "week",
                "name": "axe batch",
            },
        )
        assert batch.status_code == 201, batch.text
        yield {"execution": ok, "schedule": made.json()["id"], "collection": batch.json()["id"]}


def pages(finished: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("instances", "/instances"),
        ("editor", "/editor"),
        ("executions", "/executions"),
        ("execution", f"/executions/{finished['execution']}"),
        ("schedules", "/schedules"),
        ("schedule-new", "/schedules/new"),
        ("schedule", f"/schedules/{finished['schedule']}"),
        ("collections", "/collections"),
        ("collection-new", "/collections/new"),
        ("collection", f"/collections/{finished['collection']}"),
        ("tokens", "/tokens"),
        ("admin", "/admin"),
        ("audit", "/admin/audit"),
        ("not-found", "/executions/00000000-0000-0000-0000-000000000000"),
    ]


def serious(page: Page) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def settle(page: Page, name: str) -> None:
    if name == "execution":
        expect(page.locator("#rows")).to_be_visible()
        page.get_by_role("button", name="Draw chart").click()
        expect(page.locator("#chart canvas")).to_have_count(1)
    if name == "collection":
        expect(page.locator("#collection-state")).to_have_text("complete", timeout=30_000)
    if name == "schedule-new":
        expect(page.locator("#preview-table tbody tr")).to_have_count(5)
    if name == "editor":
        expect(page.locator("#amc-window")).not_to_have_text("…", timeout=10_000)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_and_screenshots_of_every_page(
    browser: Browser, server: Server, finished: dict[str, str], scheme: str
) -> None:
    if not AXE.is_file():
        pytest.fail("axe-core is missing: run `make assets` (npm ci in frontend/)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[dict[str, Any]]] = {}
    widths = (1280, 390) if scheme == "light" else (1280,)
    for width in widths:
        context = new_context(
            browser, server, viewport={"width": width, "height": 900}, color_scheme=scheme
        )
        page = context.new_page()
        page.goto("/signin")
        _shoot(page, "signin", width, scheme)
        problems[f"signin@{width}"] = serious(page)
        sign_in(page)
        for name, path in pages(finished):
            page.goto(path)
            settle(page, name)
            _shoot(page, name, width, scheme)
            problems[f"{name}@{width}"] = serious(page)
        context.close()
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, bad


def _shoot(page: Page, name: str, width: int, scheme: str) -> Path:
    target = ARTIFACTS / f"{name}-{width}{'-dark' if scheme == 'dark' else ''}.png"
    page.screenshot(path=str(target), full_page=True)
    return target
