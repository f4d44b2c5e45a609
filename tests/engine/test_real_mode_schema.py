"""Real mode lints against the instance's `dataSources`, not the sandbox's catalogue.

`amc sandbox serve` stands in for AMC, configured to list one extra table no catalogue knows.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from amc_manager.catalogue import CATALOGUE
from tests.engine.live import Processes, real_env, run_amc, setup_real
from tests.windows import day_window

ROWS_PER_DAY = 120
EXTRA_TABLE: dict[str, Any] = {
    "name": "crm_orders",
    "columns": [
        {"name": "purchase_dt_utc", "data_type": "TIMESTAMP", "threshold": "MEDIUM"},
        {"name": "purchase_date_utc", "data_type": "DATE", "threshold": "LOW"},
        {"name": "purchase_units", "data_type": "LONG", "threshold": "NONE"},
        {"name": "user_id", "data_type": "STRING", "threshold": "VERY_HIGH"},
    ],
    "rows_per_day": ROWS_PER_DAY,
}
LISTED_SQL = """-- Daily purchases of a table only the instance's dataSources knows.
SELECT purchase_date_utc AS day, SUM(purchase_units) AS units, COUNT(1) AS purchases
FROM crm_orders
GROUP BY 1
"""
UNLISTED_SQL = """-- dsp_views_by_hour: a table this instance does not list (nor any catalogue).
SELECT campaign, SUM(impressions) AS views
  FROM dsp_views_by_hour
GROUP BY 1
"""


def test_listed_table_runs_and_unlisted_table_is_amcs_to_refuse(tmp_path: Path) -> None:
    assert CATALOGUE.table("crm_orders") is None
    assert CATALOGUE.table("dsp_views_by_hour") is None
    first, last = day_window(3)
    listed = tmp_path / "listed.sql"
    listed.write_text(LISTED_SQL, encoding="utf-8")
    unlisted = tmp_path / "unlisted.sql"
    unlisted.write_text(UNLISTED_SQL, encoding="utf-8")
    output = tmp_path / "purchases.csv"
    window = ["--start", first, "--end", last]
    with Processes(tmp_path) as procs:
        server = procs.sandbox(state=False, duration="1", extra_tables=[EXTRA_TABLE])
        env = real_env(tmp_path / "home", server.url, AMC_POLL_INTERVAL=0.3)
        instance = setup_real(env, tmp_path)[0]["instance_id"]

        done = run_amc(
            env, tmp_path, "run", str(listed), "--instance", instance, *window,
            "--output", str(output),
        )  # fmt: skip
        assert "crm_orders" not in done.stderr, done.stderr
        refused = run_amc(
            env, tmp_path, "run", str(unlisted), "--instance", instance, *window, expect=2
        )
        stats = server.stats()

    with output.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["day", "units", "purchases"]
    assert sorted(r[0] for r in rows[1:]) == sorted({r[0] for r in rows[1:]})
    assert len(rows) - 1 == 3 and all(int(r[2]) == ROWS_PER_DAY for r in rows[1:]), rows

    warning = (
        f"{unlisted}:3:8: warning: table 'dsp_views_by_hour' is not in the instance's dataSources: "
        "AMC decides at submission"
    )
    assert warning in refused.stderr, refused.stderr
    # AMC's own refusal (the sandbox's Calcite-style compile error) names the table
    assert "Object 'dsp_views_by_hour' not found" in refused.stderr, refused.stderr
    assert stats["executions_created"] == 1, stats  # the refused one was never created
