"""`/metrics` after a run: lag histograms, queue depth per instance, and one registry per app."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import SQL, Api, bearer, make_settings, started, wait_done
from tests.api.test_executions import BACKENDS, first_instance
from tests.engine.live import fresh_postgres
from tests.windows import window_fields

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(api: Api) -> Samples:
    got = await api.client.get("/metrics")
    assert got.status_code == 200, got.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(got.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_metrics_after_a_run_then_a_queued_one_in_a_second_app(
    backend: str, tmp_path: Path, clean_env: None
) -> None:
    database_url = await fresh_postgres() if backend == "postgresql" else None
    settings = make_settings(tmp_path, database_url, AMC_METRICS_PUBLIC="true")
    async with started(settings, worker=True) as api:
        token = await api.token()
        instance = await first_instance(api, token)
        body = {"instance_id": instance, "sql": SQL, **window_fields()}
        made = await api.client.post("/api/v1/executions", json=body, headers=bearer(token))
        assert made.status_code == 201, made.text
        assert (await wait_done(api, token, made.json()["id"]))["state"] == "succeeded"
        first = await scrape(api)
        # AMC's lastUpdatedTime to the worker's read, and AMC's final status to our result.
        assert value(first, "amc_detection_lag_seconds_count") == 1
        assert 0 <= value(first, "amc_detection_lag_seconds_sum") < 60
        assert value(first, "amc_total_lag_seconds_count") == 1
        assert 0 <= value(first, "amc_total_lag_seconds_sum") < 60
        assert value(first, "amc_total_lag_seconds_bucket", le="+Inf") == 1
        assert value(first, "amc_executions", state="succeeded") == 1
        assert not any(name == "amc_queue_depth" for name, _ in first)
        assert value(first, "amc_token_requests_total", status="200") >= 1
        again = await scrape(api)  # a run is observed once, not at every scrape
        assert value(again, "amc_total_lag_seconds_count") == 1

    # A second app in the same process (its own registry), without a worker: the run waits.
    async with started(settings) as second:
        made = await second.client.post("/api/v1/executions", json=body, headers=bearer(token))
        assert made.status_code == 201, made.text
        samples = await scrape(second)
        assert value(samples, "amc_queue_depth", instance_id=instance) == 1
        assert value(samples, "amc_executions", state="queued") == 1
        # Lags come from the store, so this process reports the first app's run too; the
        # detection lag is observed by a worker in the process, and this one has none.
        assert value(samples, "amc_total_lag_seconds_count") == 1
        assert value(samples, "amc_detection_lag_seconds_count") == 0
