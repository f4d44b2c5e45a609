"""Authorization over REST: two users on different accounts and one grant; revoked tokens,
disabled users and ended sessions are refused at once."""

from __future__ import annotations

import json

import httpx

from amc_manager.api.paging import encode_cursor
from tests.api.conftest import SQL, Api, bearer
from tests.windows import window_fields

A, B = "a@example.com", "b@example.com"


async def _two_users(api: Api) -> tuple[str, str, str, str, str]:
    """A on the default account (one execution there), B on the second identity's account."""
    from amc_manager.service.access import sync_accounts
    from amc_manager.service.auth import add_token

    admin = await api.token()
    token_a, token_b = await api.token(A), await api.token(B)
    config = api.runtime.sandbox_config
    assert config is not None
    await add_token(api.runtime, A, config.refresh_token)
    instance = (await sync_accounts(api.runtime, A))[0].instance_id
    await api.connect_second(B)
    body = {"instance_id": instance, "sql": SQL, **window_fields()}
    made = await api.client.post("/api/v1/executions", json=body, headers=bearer(token_a))
    assert made.status_code == 201, made.text
    return admin, token_a, token_b, instance, made.json()["id"]


async def _b_sees(api: Api, token_b: str, instance: str, execution_id: str) -> dict[str, int]:
    """What B gets for each way in to A's execution."""
    h = bearer(token_b)
    c = api.client
    listed = (await c.get("/api/v1/executions", headers=h)).json()["items"]
    forged = encode_cursor("executions", [9e12, "ffffffff"])
    paged = (await c.get(f"/api/v1/executions?cursor={forged}", headers=h)).json()["items"]
    base = f"/api/v1/executions/{execution_id}"
    return {
        "listed": int(any(i["id"] == execution_id for i in listed)),
        "cursor": int(any(i["id"] == execution_id for i in paged)),
        "filter": (
            await c.get(f"/api/v1/executions?instance_id={instance}", headers=h)
        ).status_code,
        "instance": (await c.get(f"/api/v1/instances/{instance}", headers=h)).status_code,
        "get": (await c.get(base, headers=h)).status_code,
        "results": (await c.get(f"{base}/results", headers=h)).status_code,
        "events": (await c.get(f"/api/v1/events?instance_id={instance}", headers=h)).status_code,
        "stream": await _stream_status(c, f"{base}/events", h),
        "cancel": (await c.post(f"{base}/cancel", headers=h)).status_code,
    }


async def _stream_status(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> int:
    async with client.stream("GET", url, headers=headers) as answer:
        return answer.status_code  # the stream is left at once: only the status matters


async def test_b_cannot_reach_a_s_executions_until_granted(api: Api) -> None:
    api.state.draining.set()  # event streams answer their first event and end
    admin, token_a, token_b, instance, execution_id = await _two_users(api)
    hidden = await _b_sees(api, token_b, instance, execution_id)
    assert hidden == {
        "listed": 0,
        "cursor": 0,
        "filter": 404,
        "instance": 404,
        "get": 404,
        "results": 404,
        "events": 404,
        "stream": 404,
        "cancel": 404,
    }
    b_id = (await api.client.get("/api/v1/me", headers=bearer(token_b))).json()["id"]
    granted = await api.client.put(
        f"/api/v1/instances/{instance}/grants/{b_id}", headers=bearer(admin)
    )
    assert granted.status_code == 200 and granted.json()["granted"] is True
    seen = await _b_sees(api, token_b, instance, execution_id)
    assert seen == {
        "listed": 1,
        "cursor": 1,
        "filter": 200,
        "instance": 200,
        "get": 200,
        "results": 409,  # visible, but it has no rows yet (no worker in this app)
        "events": 200,
        "stream": 200,
        "cancel": 403,  # cancelling is for its creator and admins
    }
    revoked = await api.client.delete(
        f"/api/v1/instances/{instance}/grants/{b_id}", headers=bearer(admin)
    )
    assert revoked.status_code == 200
    assert await _b_sees(api, token_b, instance, execution_id) == hidden
    not_admin = await api.client.put(
        f"/api/v1/instances/{instance}/grants/{b_id}", headers=bearer(token_a)
    )
    assert not_admin.status_code == 403


async def test_revoked_tokens_and_disabled_users_are_refused_at_once(api: Api) -> None:
    admin = await api.token()
    token = await api.token(A)
    assert (await api.client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    made = await api.client.post("/api/v1/tokens", json={"name": "ci"}, headers=bearer(token))
    assert made.status_code == 201 and made.json()["token"].startswith("amc_")
    second, second_id = made.json()["token"], made.json()["id"]
    listed = (await api.client.get("/api/v1/tokens", headers=bearer(token))).json()["items"]
    assert second_id in {t["id"] for t in listed} and "token" not in listed[0]
    gone = await api.client.delete(f"/api/v1/tokens/{second_id}", headers=bearer(token))
    assert gone.status_code == 204
    assert (await api.client.get("/api/v1/me", headers=bearer(second))).status_code == 401
    user_id = (await api.client.get("/api/v1/me", headers=bearer(token))).json()["id"]
    disabled = await api.client.patch(
        f"/api/v1/users/{user_id}", json={"disabled": True}, headers=bearer(admin)
    )
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert (await api.client.get("/api/v1/me", headers=bearer(token))).status_code == 401
    assert (
        await api.client.get("/api/v1/me", headers=bearer("amc_" + "x" * 43))
    ).status_code == 401


async def test_sessions_csrf_sign_out_and_password_change(api: Api) -> None:
    admin = await api.token()
    await api.token(A)  # A with the password "correct horse 1"
    signed = await api.client.post(
        "/api/v1/session", json={"email": A, "password": "correct horse 1"}
    )
    assert signed.status_code == 200, signed.text
    cookie = signed.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    csrf = signed.json()["csrf_token"]
    assert signed.json()["user"]["email"] == A
    assert (await api.client.get("/api/v1/me")).status_code == 200  # the cookie alone reads
    no_csrf = await api.client.post("/api/v1/tokens", json={})
    assert no_csrf.status_code == 403
    with_csrf = await api.client.post("/api/v1/tokens", json={}, headers={"X-CSRF-Token": csrf})
    assert with_csrf.status_code == 201
    out = await api.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    jar = dict(api.client.cookies)
    api.client.cookies.clear()
    api.client.cookies.update(jar)  # an old copy of the cookie must not work either
    assert (await api.client.get("/api/v1/me")).status_code == 401
    api.client.cookies.clear()
    again = await api.client.post(
        "/api/v1/session", json={"email": A, "password": "correct horse 1"}
    )
    assert again.status_code == 200
    user_id = again.json()["user"]["id"]
    changed = await api.client.patch(
        f"/api/v1/users/{user_id}", json={"password": "another horse 2"}, headers=bearer(admin)
    )
    assert changed.status_code == 200
    assert (await api.client.get("/api/v1/me")).status_code == 401
    api.client.cookies.clear()
    third = await api.client.post(
        "/api/v1/session", json={"email": A, "password": "another horse 2"}
    )
    assert third.status_code == 200 and (await api.client.get("/api/v1/me")).status_code == 200
    disabled = await api.client.patch(
        f"/api/v1/users/{user_id}", json={"disabled": True}, headers=bearer(admin)
    )
    assert disabled.status_code == 200
    assert (await api.client.get("/api/v1/me")).status_code == 401  # the session ended at once
    api.client.cookies.clear()


async def test_failed_sign_ins_are_slowed_then_refused(api: Api) -> None:
    api.state.throttle.step = 0.01  # keep the slowing short in a test; the count is what matters
    await api.token(A)
    answers = []
    for _ in range(12):
        wrong = await api.client.post("/api/v1/session", json={"email": A, "password": "nope nope"})
        answers.append(wrong.status_code)
    assert answers[:10] == [401] * 10 and answers[10:] == [429, 429]
    right = await api.client.post(
        "/api/v1/session", json={"email": A, "password": "correct horse 1"}
    )
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


async def test_one_time_sign_in_link(api: Api) -> None:
    from amc_manager.service.users import create_signin_link

    token = await create_signin_link(api.runtime, "local@amc-manager")
    used = await api.client.get(f"/signin/{token}")
    assert used.status_code == 303 and used.headers["location"] == "/"
    assert (await api.client.get("/api/v1/me")).json()["email"] == "local@amc-manager"
    api.client.cookies.clear()
    assert (await api.client.get(f"/signin/{token}")).status_code == 404


async def test_mutating_calls_are_audited_with_their_user(api: Api) -> None:
    token = await api.token(A)
    await api.client.post("/api/v1/tokens", json={"name": "x"}, headers=bearer(token))
    rows = (await api.client.get("/api/v1/audit", headers=bearer(token))).json()["items"]
    rest = [r for r in rows if r["kind"] == "rest"]
    assert rest and rest[0]["user_email"] == A and rest[0]["path"] == "/api/v1/tokens"
    assert rest[0]["status"] == 201
    assert json.dumps(rows).count("amc_") == 0
