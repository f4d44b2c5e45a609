"""Executions over REST: create (idempotent), list with cursors, get, cancel, results, events."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.api.conftest import SQL, Api, bearer, make_settings, started, wait_done
from tests.engine.live import POSTGRES_URL, fresh_postgres
from tests.rows import same_rows
from tests.windows import window_fields

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="AMC_TEST_POSTGRES_URL is not set (PostgreSQL tests skipped)"
        ),
    ),
]


async def first_instance(api: Api, token: str) -> str:
    listed = await api.client.get("/api/v1/instances", headers=bearer(token))
    instance_id: str = listed.json()["items"][0]["instance_id"]
    return instance_id


async def test_a_run_end_to_end_with_every_result_format(tmp_path: Path, clean_env: None) -> None:
    async with started(make_settings(tmp_path), worker=True) as api:
        token = await api.token()
        instance = await first_instance(api, token)
        body = {"instance_id": instance, "sql": SQL, **window_fields()}
        made = await api.client.post("/api/v1/executions", json=body, headers=bearer(token))
        assert made.status_code == 201, made.text
        execution_id = made.json()["id"]
        assert made.headers["location"] == f"/api/v1/executions/{execution_id}"
        done = await wait_done(api, token, execution_id)
        assert done["state"] == "succeeded", done
        assert [e["state"] for e in done["timeline"]][-1] == "succeeded"
        assert "result_path" not in done and done["results_url"].endswith("/results")
        url = f"/api/v1/executions/{execution_id}/results"
        first = (await api.client.get(f"{url}?limit=2", headers=bearer(token))).json()
        assert [c["name"] for c in first["columns"]] == ["campaign", "impressions"]
        rest = (
            await api.client.get(f"{url}?offset={first['next_offset']}", headers=bearer(token))
        ).json()
        assert rest["next_offset"] is None
        rows = first["rows"] + rest["rows"]
        assert len(rows) == done["row_count"]
        text = (await api.client.get(f"{url}?format=csv", headers=bearer(token))).text
        from_csv = [[r[0], int(r[1])] for r in list(csv.reader(io.StringIO(text)))[1:]]
        assert same_rows(from_csv, rows)
        lines = (await api.client.get(f"{url}?format=jsonl", headers=bearer(token))).text
        assert same_rows([list(json.loads(x).values()) for x in lines.splitlines()], rows)
        parquet = await api.client.get(f"{url}?format=parquet", headers=bearer(token))
        table = pq.read_table(io.BytesIO(parquet.content))
        assert same_rows([list(r.values()) for r in table.to_pylist()], rows)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_one_idempotency_key_makes_one_execution(
    backend: str, tmp_path: Path, clean_env: None
) -> None:
    database_url = await fresh_postgres() if backend == "postgresql" else None
    async with started(make_settings(tmp_path, database_url), worker=True) as api:
        token = await api.token()
        body = {"instance_id": await first_instance(api, token), "sql": SQL, **window_fields()}
        headers = {**bearer(token), "Idempotency-Key": "nightly-2026-12-09"}
        answers = await asyncio.gather(
            *(api.client.post("/api/v1/executions", json=body, headers=headers) for _ in range(10))
        )
        assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
        ids = {a.json()["id"] for a in answers}
        assert len(ids) == 1
        (execution_id,) = ids
        assert (await wait_done(api, token, execution_id))["state"] == "succeeded"
        assert api.runtime.embedded is not None
        assert api.runtime.embedded.sandbox.stats.executions_created == 1
        again = await api.client.post("/api/v1/executions", json=body, headers=headers)
        assert again.status_code == 200 and again.json()["id"] == execution_id
        other = await api.client.post(
            "/api/v1/executions", json={**body, "sql": SQL + " "}, headers=headers
        )
        assert other.status_code == 409 and execution_id in other.json()["detail"]
        listed = (await api.client.get("/api/v1/executions", headers=bearer(token))).json()
        assert [i["id"] for i in listed["items"]] == [execution_id]


async def test_invalid_sql_is_422_with_every_problem_and_nothing_stored(api: Api) -> None:
    token = await api.token()
    body = {
        "instance_id": await first_instance(api, token),
        "sql": "SELECT nope FROM no_such_table",
        **window_fields(),
    }
    refused = await api.client.post("/api/v1/executions", json=body, headers=bearer(token))
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["problems"] and all("message" in p for p in problem["problems"])
    assert any("no_such_table" in p["message"] for p in problem["problems"])
    bad_window = {**body, "sql": SQL, "start": "2001-01-01", "end": "2001-01-02"}
    late = await api.client.post("/api/v1/executions", json=bad_window, headers=bearer(token))
    assert late.status_code == 422, late.text
    listed = (await api.client.get("/api/v1/executions", headers=bearer(token))).json()
    assert listed == {"items": [], "next_cursor": None}


async def test_cursor_paging_newest_first_and_filters(api: Api) -> None:
    token = await api.token()
    body = {"instance_id": await first_instance(api, token), "sql": SQL, **window_fields()}
    made = []
    for _ in range(5):
        answer = await api.client.post("/api/v1/executions", json=body, headers=bearer(token))
        made.append(answer.json()["id"])
    seen: list[str] = []
    url = "/api/v1/executions?limit=2"
    while True:
        page = (await api.client.get(url, headers=bearer(token))).json()
        seen += [i["id"] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/executions?limit=2&cursor={page['next_cursor']}"
    assert seen == list(reversed(made))
    queued = await api.client.get("/api/v1/executions?state=queued", headers=bearer(token))
    assert len(queued.json()["items"]) == 5
    none = await api.client.get("/api/v1/executions?state=succeeded", headers=bearer(token))
    assert none.json()["items"] == []
    forged = await api.client.get("/api/v1/executions?cursor=bm9wZQ", headers=bearer(token))
    assert forged.status_code == 400
    cancelled = await api.client.post(f"/api/v1/executions/{made[0]}/cancel", headers=bearer(token))
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    twice = await api.client.post(f"/api/v1/executions/{made[0]}/cancel", headers=bearer(token))
    assert twice.status_code == 409
    no_rows = await api.client.get(f"/api/v1/executions/{made[0]}/results", headers=bearer(token))
    assert no_rows.status_code == 409


async def test_server_sent_events_follow_a_run_to_its_end(tmp_path: Path, clean_env: None) -> None:
    async with started(make_settings(tmp_path), worker=True) as api:
        api.state.event_poll = 0.1
        token = await api.token()
        body = {"instance_id": await first_instance(api, token), "sql": SQL, **window_fields()}
        execution_id = (
            await api.client.post("/api/v1/executions", json=body, headers=bearer(token))
        ).json()["id"]
        states = []
        async with api.client.stream(
            "GET", f"/api/v1/executions/{execution_id}/events", headers=bearer(token)
        ) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    states.append(json.loads(line[6:])["state"])
        assert states[0] in ("queued", "submitting", "pending", "running")
        assert states[-1] == "succeeded" and len(states) == len(set(states)) or len(states) > 1


async def test_validate_lists_problems_without_storing(api: Api) -> None:
    token = await api.token()
    instance = await first_instance(api, token)
    body = {"sql": "SELECT nope FROM no_such_table", "instance_id": instance, **window_fields()}
    checked = await api.client.post("/api/v1/validate", json=body, headers=bearer(token))
    assert checked.status_code == 200, checked.text
    problems = checked.json()["problems"]
    assert any(p["severity"] == "error" and "no_such_table" in p["message"] for p in problems)
    assert checked.json()["window"]["type"] == "EXPLICIT"
    fine = await api.client.post(
        "/api/v1/validate", json={**body, "sql": SQL}, headers=bearer(token)
    )
    assert [p for p in fine.json()["problems"] if p["severity"] == "error"] == []
    unseen = await api.client.post(
        "/api/v1/validate", json={**body, "instance_id": "amczzzzzzzz"}, headers=bearer(token)
    )
    assert unseen.status_code == 404


async def test_saved_workflows_round_trip(api: Api) -> None:
    token = await api.token()
    instance = await first_instance(api, token)
    made = await api.client.post(
        "/api/v1/workflows",
        json={"instance_id": instance, "workflow_id": "api-daily", "sql": SQL},
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    listed = await api.client.get(
        f"/api/v1/workflows?instance_id={instance}", headers=bearer(token)
    )
    assert "api-daily" in {w["workflow_id"] for w in listed.json()["items"]}
    changed = await api.client.put(
        "/api/v1/workflows/api-daily",
        json={"instance_id": instance, "sql": SQL.replace("SUM", "MAX")},
        headers=bearer(token),
    )
    assert changed.status_code == 200, changed.text
    assert "MAX(impressions)" in changed.json()["sql"]
    gone = await api.client.delete(
        f"/api/v1/workflows/api-daily?instance_id={instance}", headers=bearer(token)
    )
    assert gone.status_code == 204
    missing = await api.client.get(
        f"/api/v1/workflows/api-daily?instance_id={instance}", headers=bearer(token)
    )
    assert missing.status_code == 404
