"""Collections in the browser: a 6-week collection over two instances, the coverage grid
filling in without a reload, and a cell failed by the sandbox's fail marker retried from the
page until the collection is complete."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.web.conftest import FAIL_MARKER, Server
from tests.windows import whole_weeks

SQL = (
    f"-- {FAIL_MARKER}: the sandbox fails the first execution of this SQL\n"
    "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
)


def test_six_weeks_over_two_instances_fill_in_and_a_failed_cell_is_retried(
    admin_page: Page, server: Server
) -> None:
    page = admin_page
    first, last = whole_weeks(6)
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    page.goto("/collections/new")
    page.get_by_label("Name").fill("six weeks")
    boxes = page.locator('input[name="instance_ids"]')
    expect(boxes).to_have_count(2)
    for box in boxes.all():
        box.check()
    page.get_by_label("SQL").fill(SQL)
    page.get_by_label("First day").fill(start.isoformat())
    page.get_by_label("Last day (included)").fill(end.isoformat())
    page.get_by_label("One window per").select_option("week")
    page.get_by_role("button", name="Create collection").click()
    page.wait_for_url(re.compile(r"/collections/[0-9a-f-]{36}$"))
    page.evaluate("window.__sameDocument = true")

    grid = page.locator("#coverage")
    expect(grid.locator("tbody tr")).to_have_count(6)
    cells = grid.locator("a[data-cell]")
    expect(cells).to_have_count(12)
    first_row = grid.locator("tbody tr").first.locator("th")
    expect(first_row).to_have_text(f"{start.isoformat()} → {(start + timedelta(days=7))}")
    failed = grid.locator('a[data-state="failed"]')
    expect(failed).to_have_count(1, timeout=60_000)
    expect(grid.locator('a[data-state="succeeded"]')).to_have_count(11, timeout=60_000)
    expect(page.locator("#collection-state")).to_have_text("failed")
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    failed_execution = failed.get_attribute("href")

    page.get_by_role("button", name="Retry failed").click()
    expect(grid.locator('a[data-state="succeeded"]')).to_have_count(12, timeout=60_000)
    expect(page.locator("#collection-state")).to_have_text("complete")
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    retried = grid.locator("a[data-cell]").all()
    hrefs = {link.get_attribute("href") for link in retried}
    assert failed_execution not in hrefs  # the retried cell links to its new execution
    page.locator("a[data-cell]").first.click()
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]{36}$"))
    expect(page.locator("#state")).to_have_text("succeeded")
