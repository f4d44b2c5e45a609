"""Suite-wide rules: in CI (`AMC_TEST_NO_SKIPS=1`, set by `.ci/run`) a skipped test fails.

Locally a test whose service (PostgreSQL, a browser, an S3 server) is missing skips with a
visible reason; CI installs and starts every service, so a skip there means something the
suite needs did not come up, and the run must not pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

NO_SKIPS = os.environ.get("AMC_TEST_NO_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if NO_SKIPS and report.skipped:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every service must be up: {reason}"
