"""schemathesis against the app's own OpenAPI document: no 5xx, no answer that breaks its
schema, no status code the document does not list (fixed seed, 20 examples per operation)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient, shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from amc_manager.api import create_app
from amc_manager.api.deps import ApiState
from amc_manager.api.security import RateLimiter
from amc_manager.config import DEFAULT_USER, Settings
from tests.api.conftest import bearer, make_settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Fuzz:
    client: ASGIClient
    token: str
    states: list[ApiState]


async def _prepare(settings: Settings) -> str:
    """The store as a fresh `amc serve` sees it, plus a second admin, so the fuzzer (the
    first admin) cannot lock every admin out."""
    from amc_manager.service.access import bootstrap_embedded
    from amc_manager.service.runtime import Runtime
    from amc_manager.service.tokens import create_token
    from amc_manager.service.users import create_user

    async with Runtime(settings) as runtime:
        await bootstrap_embedded(runtime)
        await create_user(runtime, "second-admin@example.com", admin=True)
        return (await create_token(runtime, DEFAULT_USER)).secret


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    """The app (no worker) in schemathesis' own in-process client, which runs its lifespan."""
    settings = make_settings(tmp_path_factory.mktemp("fuzz"))
    token = asyncio.run(_prepare(settings))
    states: list[ApiState] = []
    app = create_app(settings, worker=False, state_hook=states)
    with ASGIClient(app) as client:  # type: ignore[arg-type]
        yield Fuzz(client, token, states)
    shutdown_lifespans()


# Building the app touches nothing (the runtime opens in its lifespan), so the document can be
# read at import; the requests go to the fixture's app.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(AMC_HOME="/nonexistent/amc-manager")).openapi()
).exclude(path_regex=r"/events$")


@schema.parametrize()
@seed(20261209)
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_own_contract(case: Case[Any], fuzz: Fuzz) -> None:
    for state in fuzz.states:  # the fuzzer's bursts test the routes, not the rate limit
        state.limiter = RateLimiter(rate=1e6, burst=1_000_000)
    case.call_and_validate(
        session=fuzz.client, base_url="http://testserver", headers=bearer(fuzz.token), checks=CHECKS
    )
