"""The dashboard's main job in a real browser: sign in, write SQL with a mistake and see it
marked, fix it, fill a list parameter, pick a window, run, watch the state change live, and
read the same rows as `amc results` in the table, a bar chart and the CSV download."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from tests.web.conftest import Server
from tests.windows import day_window

CAMPAIGNS = ["Acme Spring Sale DSP", "Cascade Outdoors Spring Sale DSP"]
LINES = [
    "-- impressions of the campaigns picked in the form",
    "SELECT campaign, SUM(impressions) AS impressions",
    "FROM dsp_impresions",
    "WHERE campaign IN {{campaigns}}",
    "GROUP BY campaign",
]


def window_days() -> tuple[str, str]:
    """The web tests' window: the runs are in America/New_York, west of UTC, so it ends a day
    earlier than a UTC window would."""
    return day_window(11, end_days_ago=4)


def type_sql(page: Page, lines: list[str]) -> None:
    """Replace the editor's text by typing it (completion popups closed before each Enter)."""
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    for number, line in enumerate(lines):
        page.keyboard.type(line)
        page.keyboard.press("Escape")
        if number < len(lines) - 1:
            page.keyboard.press("Enter")
    # closeBrackets may have added closers past what we typed; the document must be ours.
    expect(page.locator(".cm-content")).to_contain_text(lines[-1])


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_write_check_run_and_read_results(admin_page: Page, server: Server) -> None:
    page = admin_page
    page.goto("/editor")
    expect(page.get_by_role("heading", name="Query editor")).to_be_visible()
    type_sql(page, LINES)
    assert page.evaluate("window.amcEditor.state.doc.toString()") == "\n".join(LINES)

    # The mistake on line 3 is marked on line 3, with the rule and the hint on hover.
    third = page.locator(".cm-line").nth(2)
    marker = third.locator(".cm-lintRange-error")
    expect(marker).to_have_count(1, timeout=10_000)
    marker.hover()
    tooltip = page.locator(".cm-tooltip-lint")
    expect(tooltip).to_contain_text("unknown table 'dsp_impresions'")
    expect(tooltip).to_contain_text("did you mean 'dsp_impressions'")
    expect(page.locator("#problems")).to_contain_text("Line 3, column 6")

    # Fix it by typing at the end of line 3 (the missing s).
    third.click()
    page.keyboard.press("End")
    for _ in "ions":
        page.keyboard.press("Backspace")
    page.keyboard.type("sions")
    page.keyboard.press("Escape")
    expect(page.locator(".cm-line").nth(2)).to_have_text("FROM dsp_impressions")

    # The placeholder after IN is a list: one value per line.
    page.get_by_label(re.compile(r"^campaigns")).fill("\n".join(CAMPAIGNS))
    start, end = window_days()
    page.get_by_label("First day").fill(start)
    page.get_by_label("Last day (included)").fill(end)
    page.get_by_label("Time zone").select_option("America/New_York")
    after_end = (datetime.fromisoformat(end) + timedelta(days=1)).date().isoformat()
    expect(page.locator("#amc-window")).to_have_text(
        f"EXPLICIT {start}T00:00:00 to {after_end}T00:00:00 (end excluded), America/New_York",
        timeout=10_000,
    )
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.locator("#problems .error")).to_have_count(0)

    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]{36}$"))
    execution_id = page.url.rsplit("/", 1)[1]
    page.evaluate("window.__sameDocument = true")
    seen = page.locator("#state")
    expect(seen).to_have_text("succeeded", timeout=30_000)
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    assert page.locator("#timeline li").count() >= 3  # queued ... succeeded, pushed live

    # The table holds what `amc results` gives (no ORDER BY: as multisets).
    expected = csv_rows(server.amc("results", execution_id, "--format", "csv"))
    header, body = expected[0], expected[1:]
    assert sorted(r[0] for r in body) == sorted(CAMPAIGNS)
    table = page.locator("#rows")
    expect(table.locator("tbody tr")).to_have_count(len(body))
    shown = [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]
    assert sorted(shown) == sorted(body)
    headers = [h.split()[0] for h in table.locator("thead th").all_inner_texts()]
    assert headers == header
    number_cell = table.locator("tbody tr").first.locator("td").nth(1)
    assert number_cell.evaluate("e => getComputedStyle(e).textAlign") == "right"

    # Sorting by impressions orders the rows by that number.
    table.get_by_role("button", name=re.compile("^impressions")).click()
    ordered = [int(t) for t in page.locator("#rows tbody tr td:nth-child(2)").all_inner_texts()]
    assert ordered == sorted(ordered)

    # A bar chart of the chosen column.
    page.get_by_label("Kind").select_option("bar")
    page.get_by_role("button", name="Draw chart").click()
    expect(page.locator("#chart canvas")).to_have_count(1)
    expect(page.locator("#chart")).to_have_attribute("data-kind", "bar")
    expect(page.locator("#chart-caption")).to_contain_text("Bar chart of impressions by campaign")

    # The CSV download is `amc results`' CSV (same header, same rows as a multiset).
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = download.value.path()
    downloaded = csv_rows(path.read_text(encoding="utf-8"))
    assert downloaded[0] == header
    assert sorted(downloaded[1:]) == sorted(body)
