"""One router per resource; `ROUTERS` is every one, in the order the OpenAPI lists them."""

from __future__ import annotations

from amc_manager.api.routes import (
    amazon,
    audit,
    collections,
    events,
    executions,
    health,
    instances,
    library,
    schedules,
    session,
    tokens,
    users,
    validate,
    workflows,
)

ROUTERS = [
    health.router,
    session.router,
    users.router,
    instances.router,
    validate.router,
    executions.router,
    events.router,
    workflows.router,
    collections.router,
    schedules.router,
    library.router,
    tokens.router,
    amazon.router,
    audit.router,
]
