"""A handful of prepared corpus queries sent over HTTP to the embedded sandbox, as a client would:
the substituted SQL, inputParameters and parameterValues, and a window from `resolve_window`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.embedded import EmbeddedSandbox
from amc_manager.sql import prepare, resolve_window
from tests.sandbox.helpers import Api
from tests.sql.corpus import ROOT, load

OVER_HTTP = [
    "v02_keyword_in_value.sql",
    "v03_apostrophe_backslash.sql",
    "v06_in_list_large.sql",
    "v09_custom_parameter_value.sql",
    "v10_custom_array_parameter.sql",
    "v21_values_cte.sql",
]


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    config = SandboxConfig.model_validate({"duration": "0.1", "throttle_rate": 0})
    async with EmbeddedSandbox(config, tmp_path / "state") as sandbox:
        yield await Api(sandbox.client, sandbox.sandbox).login()


def _window_fields() -> dict[str, str]:
    day = (datetime.now(UTC) - timedelta(days=4)).date()
    window = resolve_window(start=day.isoformat(), end=day.isoformat(), time_zone="UTC")
    fields = window.amc_fields()
    return {
        "start": fields["timeWindowStart"],
        "end": fields["timeWindowEnd"],
        "timeWindowTimeZone": fields["timeWindowTimeZone"],
    }


@pytest.mark.parametrize("name", OVER_HTTP)
async def test_prepared_query_succeeds_over_http(api: Api, name: str) -> None:
    case = load(ROOT / "valid" / name)
    prepared = prepare(case.text, case.values)
    fields: dict[str, object] = {"workflow": prepared.workflow(), **_window_fields()}
    if prepared.parameter_values:
        fields["parameterValues"] = prepared.parameter_values
    final, rows = await api.run(prepared.sql, **fields)
    assert final["status"] == "SUCCEEDED"
    assert rows and rows[0], "the result has a header"


async def test_undeclared_custom_parameter_is_what_amc_rejects(api: Api) -> None:
    """The sandbox agrees with the linter's undeclared-parameter rule (AMC's 400)."""
    sql = (ROOT / "invalid" / "i23_undeclared_parameter.sql").read_text(encoding="utf-8")
    response = await api.create(sql)
    assert response.status_code == 400
    assert "undeclared parameter ad_product_type" in response.json()["details"]
