"""Saved workflows: create, read, list, update, delete, and running them."""

from __future__ import annotations

from tests.sandbox.helpers import Api
from tests.windows import amc_window

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
PARAM_SQL = (
    "SELECT device_type, SUM(impressions) AS impressions FROM dsp_impressions "
    "WHERE device_type = CUSTOM_PARAMETER('device') GROUP BY device_type"
)


async def test_workflow_crud(api: Api) -> None:
    path = f"{api.base}/workflows"
    created = await api.request("POST", path, json={"workflowId": "wf.one-1", "sqlQuery": SQL})
    assert created.status_code == 200 and created.json() == {}
    duplicate = await api.request("POST", path, json={"workflowId": "wf.one-1", "sqlQuery": SQL})
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "code": "400",
        "details": "Workflow with ID wf.one-1 already exists.",
    }
    got = (await api.request("GET", f"{path}/wf.one-1")).json()  # flat, as AMC answers
    assert got["workflowId"] == "wf.one-1" and got["sqlQuery"] == SQL
    new_sql = SQL.replace("impressions) AS", "total_cost) AS")
    updated = await api.request("PUT", f"{path}/wf.one-1", json={"sqlQuery": new_sql})
    assert updated.status_code == 200
    assert (await api.request("GET", f"{path}/wf.one-1")).json()["sqlQuery"] == new_sql
    await api.request("POST", path, json={"workflowId": "wf-two", "sqlQuery": SQL})
    listed = (await api.request("GET", path, params={"limit": 1})).json()
    assert len(listed["workflows"]) == 1 and listed["nextToken"]
    deleted = await api.request("DELETE", f"{path}/wf.one-1")
    assert deleted.status_code == 200
    gone = await api.request("GET", f"{path}/wf.one-1")
    assert gone.status_code == 404
    assert gone.json()["details"] == "Workflow with ID wf.one-1 does not exist."


async def test_workflow_validation(api: Api) -> None:
    path = f"{api.base}/workflows"
    for body, fragment in (
        ({"workflowId": "has space", "sqlQuery": SQL}, "Invalid workflowId"),
        ({"workflowId": "ok"}, "sqlQuery is required"),
        ({"workflowId": "ok", "sqlQuery": SQL, "bogus": 1}, "Unrecognized field 'bogus'"),
        ({"workflowId": "ok", "sqlQuery": SQL, "inputSchema": 3}, "inputSchema"),
        ({"workflowId": "ok", "query": ["c2VsZWN0"]}, "legacy 'query'"),
        (
            {"workflowId": "ok", "sqlQuery": SQL, "outputColumns": [{"name": "campaign"}]},
            "Invalid dataType",
        ),
        ({"workflowId": "ok", "sqlQuery": "SELECT * FROM dsp_impressions"}, "compile"),
    ):
        response = await api.request("POST", path, json=body)
        assert response.status_code == 400, body
        assert fragment in response.json()["details"], response.json()


async def test_undeclared_parameter_is_refused_at_create(api: Api) -> None:
    response = await api.request(
        "POST", f"{api.base}/workflows", json={"workflowId": "wf_9fbfce61", "sqlQuery": PARAM_SQL}
    )
    assert response.status_code == 400
    details = response.json()["details"]
    assert details.startswith("Was unable to compile workflow wf_9fbfce61")
    assert "referenced an undeclared parameter device" in details


async def test_saved_workflow_runs_with_parameter_values(api: Api) -> None:
    await api.request(
        "POST",
        f"{api.base}/workflows",
        json={
            "workflowId": "by-device",
            "sqlQuery": PARAM_SQL,
            "inputParameters": [{"name": "device", "dataType": "STRING", "defaultValue": "Phone"}],
        },
    )
    start, end = amc_window()
    common = {
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": start,
        "timeWindowEnd": end,
    }
    default = await api.request(
        "POST", f"{api.base}/workflowExecutions", json={"workflowId": "by-device", **common}
    )
    override = await api.request(
        "POST",
        f"{api.base}/workflowExecutions",
        json={"workflowId": "by-device", "parameterValues": {"device": "Tablet"}, **common},
    )
    first = await api.wait(default.json()["workflowExecutionId"])
    second = await api.wait(override.json()["workflowExecutionId"])
    assert first["workflowId"] == "by-device"
    assert [r[0] for r in (await api.rows(first["workflowExecutionId"]))[1:]] == ["Phone"]
    assert [r[0] for r in (await api.rows(second["workflowExecutionId"]))[1:]] == ["Tablet"]


async def test_unknown_saved_workflow(api: Api) -> None:
    start, end = amc_window()
    response = await api.request(
        "POST",
        f"{api.base}/workflowExecutions",
        json={
            "workflowId": "nope",
            "timeWindowType": "EXPLICIT",
            "timeWindowStart": start,
            "timeWindowEnd": end,
        },
    )
    assert response.status_code == 400
    assert response.json()["details"] == "Workflow with ID nope does not exist."
