"""Access in the browser: a member without a grant gets the 404 page for another user's
execution; an admin's new API token is shown once; the executions list follows states live."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import MEMBER, Server, new_context, session_client, sign_in

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


def submit(client: httpx.Client, server: Server, sql: str = SQL) -> str:
    from tests.web.test_run_flow import window_days

    start, end = window_days()
    answer = client.post(
        "/api/v1/executions",
        json={"instance_id": server.instances[0], "sql": sql, "start": start, "end": end},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def wait_final(client: httpx.Client, execution_id: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = str(client.get(f"/api/v1/executions/{execution_id}").json()["state"])
        if state in ("succeeded", "failed", "cancelled", "rejected"):
            return state
        time.sleep(0.3)
    raise AssertionError(f"execution {execution_id} did not finish")


def test_member_without_grant_gets_the_404_page(browser: Browser, server: Server) -> None:
    with session_client(server) as admin:
        execution_id = submit(admin, server)
    context = new_context(browser, server)
    page = context.new_page()
    sign_in(page, MEMBER)
    answer = page.goto(f"/executions/{execution_id}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("404 · Not found")
    expect(page.locator("body")).not_to_contain_text(execution_id)
    page.goto("/executions")
    expect(page.locator("#executions tbody tr")).to_have_count(0)
    assert page.goto("/admin").status == 404  # type: ignore[union-attr]
    context.close()


def test_admin_creates_a_token_and_sees_it_once(admin_page: Page, server: Server) -> None:
    page = admin_page
    page.goto("/tokens")
    page.get_by_label("Name").fill("ci-robot")
    page.get_by_role("button", name="Create token").click()
    shown = page.locator("#new-token-value")
    expect(shown).to_have_text(re.compile(r"^amc_[A-Za-z0-9_-]{40,}$"))
    token = shown.inner_text()
    with httpx.Client(base_url=server.url) as program:
        me = program.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["email"] == "local@amc-manager"
    page.reload()
    expect(page.locator("table")).to_contain_text("ci-robot")
    assert token not in page.content()
    assert token[4:20] not in page.content()


def test_the_executions_list_follows_states_without_reload(
    admin_page: Page, server: Server
) -> None:
    page = admin_page
    page.goto("/executions")
    page.evaluate("window.__sameDocument = true")
    page.wait_for_timeout(1500)  # the stream's first poll sets its baseline
    with session_client(server) as admin:
        execution_id = submit(admin, server)
        row = page.locator(f'tr[data-id="{execution_id}"]')
        expect(row).to_have_count(1, timeout=15_000)
        expect(row.locator("[data-state]")).to_have_text("succeeded", timeout=30_000)
        assert wait_final(admin, execution_id) == "succeeded"
    assert page.evaluate("window.__sameDocument === true")


def test_library_entry_opens_in_the_editor_and_sign_out_ends_the_session(
    browser: Browser, server: Server
) -> None:
    context = new_context(browser, server)
    page = context.new_page()
    sign_in(page)
    page.goto("/editor")
    library = page.get_by_label("Start from the query library")
    name = library.locator("option").nth(1).get_attribute("value")
    assert name
    library.select_option(name)
    with session_client(server) as admin:
        entry = admin.get(f"/api/v1/library/{name}").json()
    expect(page.locator("#library-question")).to_have_text(entry["question"])
    assert page.evaluate("window.amcEditor.state.doc.toString()") == entry["sql"]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/signin$"))
    page.goto("/editor")
    assert "/signin?next=%2Feditor" in page.url
    context.close()


def test_connect_and_disconnect_amazon_from_the_instances_page(
    browser: Browser, server: Server
) -> None:
    email = "connector@example.com"
    server.amc("users", "create", email, "--password", "-", stdin="correct horse battery\n")
    context = new_context(browser, server)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, email)
    expect(page.locator("main")).to_contain_text("No instances yet")
    page.get_by_role("link", name="Connect Amazon").click()
    page.wait_for_url(re.compile(r"/$"), timeout=30_000)
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(len(server.instances))
    expect(rows.first).to_contain_text("connected")
    page.get_by_role("button", name="Disconnect Amazon").click()
    expect(page.locator("main")).to_contain_text("No instances yet")
    context.close()
