"""Create-execution that is never blindly re-sent.

AMC has no idempotency key (amc-api.md 8). After an uncertain outcome the client lists the
executions created since just before its attempt and adopts the one it made: an ad-hoc create
carries a nonce in a trailing `/* */` comment, matched through `includeWorkflow`; if AMC ever
drops comments, the SQL text, window and parameters match instead; a saved-workflow create
matches on workflowId, window and parameterValues. Only a proven absence allows a resubmission.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from amc_manager.client.errors import AmcTransportError, UncertainOutcome
from amc_manager.client.identity import InstanceRef
from amc_manager.client.models import Execution, ExecutionRequest, unwrap

if TYPE_CHECKING:
    from amc_manager.client.client import AmcClient

NONCE_PREFIX = "amc-manager:submission="
CLOCK_SKEW = 600.0  # list from well before the attempt: AMC's clock is not ours
_NONCE_COMMENT = re.compile(r"\s*/\* amc-manager:submission=[0-9a-f]+ \*/\s*$")


def with_nonce(sql: str, nonce: str) -> str:
    """Append the nonce as a block comment on its own line (line numbers stay the same)."""
    return f"{sql.rstrip()}\n/* {NONCE_PREFIX}{nonce} */"


def without_nonce(sql: str) -> str:
    return _NONCE_COMMENT.sub("", sql)


def _normal(sql: str | None) -> str:
    return " ".join(without_nonce(sql or "").split())


def _same_window(execution: Execution, request: ExecutionRequest) -> bool:
    if request.start is None:
        return True
    return (
        execution.time_window_start_original == request.start
        and execution.time_window_end_original == request.end
    )


def _same_values(execution: Execution, request: ExecutionRequest) -> bool:
    return {k: str(v) for k, v in execution.parameter_values.items()} == {
        k: str(v) for k, v in request.parameter_values.items()
    }


def matches(execution: Execution, request: ExecutionRequest, nonce: str) -> bool:
    if request.workflow_id is not None:
        return (
            execution.workflow_id == request.workflow_id
            and _same_window(execution, request)
            and _same_values(execution, request)
        )
    if execution.sql_query is not None and NONCE_PREFIX in execution.sql_query:
        return f"{NONCE_PREFIX}{nonce}" in execution.sql_query
    return (
        _normal(execution.sql_query) == _normal(request.sql)
        and _same_window(execution, request)
        and _same_values(execution, request)
    )


async def find_submitted(
    client: AmcClient, instance: InstanceRef, request: ExecutionRequest, nonce: str, since: float
) -> Execution | None:
    """The execution this submission created, or None when the listing proves there is none.

    Listing errors propagate: without a complete listing there is no proof of absence.
    """
    start = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    async for page in client.iter_executions(
        instance,
        workflow_id=request.workflow_id,
        min_creation_time=start,
        include_cancelled=True,
        include_workflow=request.sql is not None,
    ):
        for execution in page:
            if execution.execution_id in client.adopted:
                continue
            if matches(execution, request, nonce):
                return execution
    return None


async def create_execution(
    client: AmcClient,
    instance: InstanceRef,
    request: ExecutionRequest,
    *,
    nonce: str | None = None,
    since: float | None = None,
    resume: bool = False,
) -> Execution:
    """Submit once and adopt after uncertainty.

    A caller that persists `nonce` and `since` before calling can pass `resume=True` after a
    crash: the listing then runs first, and a POST happens only if it proves absence.
    """
    nonce = nonce or uuid.uuid4().hex
    body: dict[str, Any] = request.body(with_nonce(request.sql, nonce) if request.sql else None)
    since = (client.clock() if since is None else since) - CLOCK_SKEW
    if resume:
        found = await find_submitted(client, instance, request, nonce, since)
        if found is not None:
            client.adopted.add(found.execution_id)
            return found
    path = instance.reporting_path("workflowExecutions")

    async def attempt(_: int) -> Execution:
        try:
            response = await client.call(
                "POST",
                path,
                instance=instance,
                account=instance.account,
                operation="executions.create",
                json=body,
                idempotent=False,
            )
        except UncertainOutcome:
            found = await find_submitted(client, instance, request, nonce, since)
            if found is None:
                raise  # proven absent: safe to send again
            execution = found
        else:
            execution = Execution.model_validate(unwrap(response.json(), "workflowExecution"))
        client.adopted.add(execution.execution_id)
        return execution

    def unconfirmed(_last: BaseException) -> AmcTransportError:
        return AmcTransportError(
            "AMC did not confirm the execution after several proven-absent attempts",
            method="POST",
            path=path,
        )

    return await client.retry.run(attempt, client.sleep, UncertainOutcome, exhausted=unconfirmed)
