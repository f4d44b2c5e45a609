"""Schedules in the browser: create one with the live preview of its next slots and windows
(the same as the preview route's), run it now, see the run in its history, pause, resume."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import Server, session_client


def test_create_preview_run_now_pause_resume(admin_page: Page, server: Server) -> None:
    page = admin_page
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/schedules/new")
    page.get_by_label("Name").fill("weekly reach")
    page.get_by_label("Every", exact=True).select_option("week:MON")
    page.get_by_label("At (local time)").fill("06:30")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_label("Window", exact=True).fill("previous-week")
    preview = page.locator("#preview-table tbody tr")
    expect(preview).to_have_count(5)
    with session_client(server) as client:
        expected = client.get(
            "/api/v1/schedules/preview",
            params={"every": "week:MON", "at": "06:30", "time_zone": "America/New_York"}
            | {"window": "previous-week"},
        ).json()
    first = expected[0]
    day, clock = first["fire_time"][:10], first["fire_time"][11:16]
    expect(preview.first.locator("td").first).to_have_text(f"{day} {clock} (UTC-05:00)")
    window = f"{first['window_start']} → {first['window_end']}"
    expect(preview.first.locator("td").nth(1)).to_have_text(window)
    page.get_by_label("Window", exact=True).fill("not-a-window")
    expect(page.locator("#schedule-preview .error")).to_be_visible()
    page.get_by_label("Window", exact=True).fill("last:7d:lag:2d")
    expect(preview).to_have_count(5)

    page.get_by_role("button", name="Create schedule").click()
    page.wait_for_url(re.compile(r"/schedules/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule weekly reach")
    expect(page.locator("#schedule-state")).to_have_text("active")
    page.get_by_role("button", name="Run now").click()
    run = page.locator("#runs tbody tr").first
    expect(run).to_contain_text("(run now)")
    expect(run.get_by_role("link")).to_have_count(1)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#schedule-state")).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#schedule-state")).to_have_text("active")
    page.goto("/schedules")
    expect(page.get_by_role("link", name="weekly reach")).to_be_visible()
