"""REST: /api/v1/schedules (create, list, get, patch, delete, runs, run-now, preview) with the
access rules of executions: a schedule of an instance the caller cannot use is a 404;
changing it is for its creator and admins (403 for others who see it)."""

from __future__ import annotations

from amc_manager.api.paging import encode_cursor
from amc_manager.service.access import grant, sync_accounts
from amc_manager.service.auth import add_token
from tests.api.conftest import Api, api, bearer, clean_env  # noqa: F401

A, B, C = "a@example.com", "b@example.com", "c@example.com"
BASE = "/api/v1/schedules"


async def _a_with_instance(api: Api) -> tuple[str, str]:  # noqa: F811
    token = await api.token(A)
    config = api.runtime.sandbox_config
    assert config is not None
    await add_token(api.runtime, A, config.refresh_token)
    return token, (await sync_accounts(api.runtime, A))[0].instance_id


async def test_create_get_list_change_run_now_and_delete(api: Api) -> None:  # noqa: F811
    token, instance = await _a_with_instance(api)
    h, c = bearer(token), api.client
    body = {
        "instance_id": instance,
        "workflow_id": "weekly-report",
        "every": "week:TUE",
        "at": "06:30",
        "time_zone": "Europe/Berlin",
        "window": "previous-week",
        "parameters": {"brand": "Acme"},
        "name": "weekly",
        "pause_after": 3,
    }
    made = await c.post(BASE, json=body, headers=h)
    assert made.status_code == 201, made.text
    schedule = made.json()
    assert made.headers["location"] == f"{BASE}/{schedule['id']}"
    assert (schedule["every"], schedule["at"], schedule["state"]) == ("week:TUE", "06:30", "active")
    assert schedule["parameters"] == {"brand": "Acme"} and schedule["created_by"] == A
    for path in (BASE, BASE + "/"):
        listed = await c.get(path, headers=h)
        assert listed.status_code == 200
        assert [s["id"] for s in listed.json()["items"]] == [schedule["id"]]
    one = (await c.get(f"{BASE}/{schedule['id']}", headers=h)).json()
    assert len(one["next_slots"]) == 5
    assert all(s["fire_time"][11:19] == "06:30:00" for s in one["next_slots"])
    paused = await c.patch(
        f"{BASE}/{schedule['id']}", json={"state": "paused", "name": "renamed"}, headers=h
    )
    assert paused.status_code == 200, paused.text
    assert (paused.json()["state"], paused.json()["name"]) == ("paused", "renamed")
    assert paused.json()["next_fire_time_utc"] is None
    resumed = await c.patch(f"{BASE}/{schedule['id']}", json={"state": "active"}, headers=h)
    assert resumed.json()["state"] == "active" and resumed.json()["paused_reason"] is None
    now = await c.post(f"{BASE}/{schedule['id']}/run-now", headers=h)
    assert now.status_code == 201, now.text
    assert now.json()["manual"] is True and now.json()["execution_id"]
    runs = (await c.get(f"{BASE}/{schedule['id']}/runs", headers=h)).json()
    assert [r["id"] for r in runs["items"]] == [now.json()["id"]]
    execution = await c.get(f"/api/v1/executions/{now.json()['execution_id']}", headers=h)
    assert execution.json()["workflow_id"] == "weekly-report"
    assert execution.json()["parameters"] == {"brand": "Acme"}
    assert execution.json()["time_window_end"] == runs["items"][0]["window_end"]
    for _ in range(2):  # three runs in all: pages of two
        assert (await c.post(f"{BASE}/{schedule['id']}/run-now", headers=h)).status_code == 201
    first = (await c.get(f"{BASE}/{schedule['id']}/runs?limit=2", headers=h)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await c.get(
        f"{BASE}/{schedule['id']}/runs/",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=h,
    )
    assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    seen = {r["id"] for r in first["items"] + rest.json()["items"]}
    assert len(seen) == 3 and now.json()["id"] in seen
    foreign = await c.get(
        f"{BASE}/{schedule['id']}/runs",
        params={"cursor": encode_cursor("schedules", [1.0, "x"])},
        headers=h,
    )
    assert foreign.status_code == 400
    moved = await c.patch(
        f"{BASE}/{schedule['id']}", json={"cron": "0 9 1 * *", "window": "last:3d"}, headers=h
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["cron"], moved.json()["every"], moved.json()["at"]) == (
        "0 9 1 * *",
        None,
        None,
    )
    shown = (await c.get(f"{BASE}/{schedule['id']}", headers=h)).json()
    assert all(s["fire_time"][8:19] == "01T09:00:00" for s in shown["next_slots"])
    gone = await c.delete(f"{BASE}/{schedule['id']}", headers=h)
    assert gone.status_code == 204
    assert (await c.get(f"{BASE}/{schedule['id']}", headers=h)).status_code == 404


async def test_others_get_404_until_granted_then_403_on_changes(api: Api) -> None:  # noqa: F811
    token_a, instance = await _a_with_instance(api)
    token_b = await api.token(B)
    body = {"instance_id": instance, "workflow_id": "w", "every": "day", "window": "last:7d"}
    made = (await api.client.post(BASE, json=body, headers=bearer(token_a))).json()
    path = f"{BASE}/{made['id']}"
    hb = bearer(token_b)
    assert (await api.client.get(path, headers=hb)).status_code == 404
    assert (await api.client.get(path + "/runs", headers=hb)).status_code == 404
    assert (await api.client.delete(path, headers=hb)).status_code == 404
    assert (await api.client.get(BASE, headers=hb)).json()["items"] == []
    await grant(api.runtime, instance, B)
    assert (await api.client.get(path, headers=hb)).status_code == 200
    refused = await api.client.patch(path, json={"state": "paused"}, headers=hb)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    admin = await api.token(C, admin=True)
    assert (
        await api.client.patch(path, json={"name": "x"}, headers=bearer(admin))
    ).status_code == 200


async def test_preview_and_refusals(api: Api) -> None:  # noqa: F811
    token, instance = await _a_with_instance(api)
    h = bearer(token)
    preview = await api.client.get(
        f"{BASE}/preview",
        params={
            "every": "month:last",
            "at": "06:00",
            "window": "previous-month",
            "from": "2028-02-01T00:00:00Z",
            "count": 1,
        },
        headers=h,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json() == [
        {
            "fire_time": "2028-02-29T06:00:00+00:00",
            "fire_time_utc": "2028-02-29T06:00:00Z",
            "window_start": "2028-01-01T00:00:00",
            "window_end": "2028-02-01T00:00:00",
            "time_zone": "UTC",
        }
    ]
    base = {"instance_id": instance, "workflow_id": "w", "every": "day"}
    bad_window = await api.client.post(BASE, json={**base, "window": "yesterday"}, headers=h)
    assert bad_window.status_code == 422
    bad_every = await api.client.post(
        BASE, json={**base, "every": "fortnight", "window": "last:7d"}, headers=h
    )
    assert bad_every.status_code == 400
    assert (await api.client.get(BASE)).status_code == 401
