"""Knobs for the next issues: several Login with Amazon identities, deterministic failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from amc_manager.sandbox.config import SandboxConfigError, load_config
from amc_manager.sandbox.embedded import EmbeddedSandbox
from amc_manager.sandbox.identity import build_account
from tests.sandbox.conftest import make_config
from tests.sandbox.helpers import Api

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
UNAUTHORIZED = {"code": "403", "details": "Unauthorized request."}
SECOND = "Atzr|second-identity"
TEAMMATE = "Atzr|teammate"
IDENTITIES: list[dict[str, Any]] = [
    {
        "refresh_token": SECOND,
        "account": {"name": "Second Brand", "marketplace_id": "A1F83G8C2ARO7P"},
        "instances": 3,
    },
    {"refresh_token": TEAMMATE, "account": "default"},
]


def test_default_ids_stay_and_extra_ids_are_deterministic() -> None:
    plain = make_config()
    with_more = make_config(identities=IDENTITIES)
    assert with_more.directory().default == build_account(plain.seed, plain.instances)
    assert with_more.directory().default == plain.directory().default
    again = make_config(identities=IDENTITIES).directory()
    second = again.account_of(1)
    assert second == with_more.directory().account_of(1)
    assert (
        second.account_id.startswith("ENTITY")
        and second.account_id != plain.directory().default.account_id
    )
    assert len(second.instances) == 3 and second.marketplace_id == "A1F83G8C2ARO7P"
    assert again.account_of(2) == again.default
    other_seed = make_config(identities=IDENTITIES, seed=7).directory().account_of(1)
    assert other_seed.account_id != second.account_id


async def test_each_identity_sees_its_own_account(tmp_path: Path) -> None:
    config = make_config(identities=IDENTITIES)
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        default = await Api(embedded.client, embedded.sandbox).login()
        second = await Api(embedded.client, embedded.sandbox).login(SECOND)
        teammate = await Api(embedded.client, embedded.sandbox).login(TEAMMATE)
        own = embedded.sandbox.directory.account_of(1)

        accounts = (await second.request("GET", "/amc/accounts")).json()["amcAccounts"]
        assert accounts == [own.as_json()] and accounts[0]["accountName"] == "Second Brand"
        listed = (await second.request("GET", "/amc/instances")).json()["instances"]
        assert [i["instanceId"] for i in listed] == [i.instance_id for i in own.instances]
        shared = (await teammate.request("GET", "/amc/accounts")).json()["amcAccounts"]
        assert shared == [embedded.sandbox.account.as_json()]

        # another identity's instance, or account, answers like an instance without access
        for caller, path in (
            (second, f"/amc/reporting/{default.instance}/workflows"),
            (second, f"/amc/instances/{default.instance}"),
            (default, f"/amc/reporting/{second.instance}/workflows"),
        ):
            refused = await caller.request("GET", path)
            assert refused.status_code == 403 and refused.json() == UNAUTHORIZED, path
        foreign = await second.request(
            "GET",
            "/amc/instances",
            headers=dict(default.headers, Authorization=second.headers["Authorization"]),
        )
        assert foreign.status_code == 403

        # each identity runs on its own instances; the teammate works on the default's
        final, rows = await second.run(SQL)
        assert final["status"] == "SUCCEEDED" and len(rows) > 1
        created = (await default.create(SQL)).json()["workflowExecutionId"]
        path = f"{default.base}/workflowExecutions/{created}"
        assert (await teammate.request("GET", path)).status_code == 200
        assert (await second.request("GET", path)).status_code == 403


@pytest.mark.parametrize(
    ("knobs", "fragment"),
    [
        ({"identities": [{"refresh_token": "Atzr|sandbox-refresh-token"}]}, "own refresh_token"),
        ({"identities": [{"refresh_token": "a"}, {"refresh_token": "a"}]}, "own refresh_token"),
        (
            {"identities": [{"refresh_token": "a", "account": "default", "instances": 2}]},
            "instances goes with",
        ),
        ({"identities": [{"refresh_token": "a", "account": {"account_id": "x1"}}]}, "ENTITY"),
        (
            {"faults": {"fail_markers": [{"marker": "M"}, {"marker": "M", "times": 3}]}},
            "listed twice",
        ),
        ({"faults": {"fail_markers": [{"marker": "M", "times": 0}]}}, "greater than or equal"),
    ],
)
def test_bad_identity_and_marker_knobs(
    tmp_path: Path, knobs: dict[str, Any], fragment: str
) -> None:
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(knobs))
    with pytest.raises(SandboxConfigError) as caught:
        load_config(path)
    assert fragment in str(caught.value)


async def test_fail_marker_fails_the_first_n_then_succeeds(tmp_path: Path) -> None:
    """Counted in the shared state: a second sandbox over the same state dir continues the
    count, as another process would."""
    config = make_config(faults={"fail_markers": [{"marker": "FAIL_ME", "times": 2}]})
    marked = SQL + " /* FAIL_ME */"
    statuses = []
    for _ in range(2):
        async with EmbeddedSandbox(config, tmp_path) as embedded:
            api = await Api(embedded.client, embedded.sandbox).login()
            for sql in (marked, SQL):
                created = await api.create(sql)
                assert created.status_code == 200
                final = await api.wait(created.json()["workflowExecutionId"])
                statuses.append((sql == marked, final["status"], final.get("statusReason")))
    reason = "Internal error while running the workflow. Try again later."
    assert statuses == [
        (True, "FAILED", reason),
        (False, "SUCCEEDED", None),
        (True, "FAILED", reason),
        (False, "SUCCEEDED", None),
    ]
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        final, _ = await api.run(marked)  # the third run of the marker succeeds
        assert final["status"] == "SUCCEEDED"
        dry = await api.create(marked, dryRun=True)
        assert (await api.wait(dry.json()["workflowExecutionId"]))["status"] == "SUCCEEDED"
