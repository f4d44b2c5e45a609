"""`POST /api/v1/validate`: the same checks as `amc validate` and `amc run`."""

from __future__ import annotations

from fastapi import APIRouter

from amc_manager.api.deps import CallerDep, RuntimeDep
from amc_manager.api.routes.common import PREFIX, documented
from amc_manager.api.schemas import ProblemItem, ValidateIn, ValidateOut, WindowOut
from amc_manager.sql import Problem, TimeWindow

router = APIRouter(prefix=PREFIX, tags=["validate"])


def problem_item(problem: Problem) -> ProblemItem:
    return ProblemItem(
        severity=problem.severity.value,
        message=problem.message,
        hint=problem.hint,
        line=problem.line,
        column=problem.column,
    )


def window_out(window: TimeWindow | None) -> WindowOut | None:
    if window is None:
        return None
    return WindowOut(
        type=window.window_type,
        time_zone=window.time_zone,
        start=window.start.isoformat() if window.start else None,
        end=window.end.isoformat() if window.end else None,
    )


@router.post(
    "/validate",
    summary="Check SQL, parameters and the window; problems are listed, not refused.",
    response_model=ValidateOut,
    responses=documented(400, 401, 404, 413, 422, 500),
)
async def validate(body: ValidateIn, who: CallerDep, runtime: RuntimeDep) -> ValidateOut:
    from amc_manager.service.access import show_instance
    from amc_manager.service.checks import WindowInput
    from amc_manager.service.validation import ValidateRequest
    from amc_manager.service.validation import validate as check
    from amc_manager.sql import values_from_mapping

    if body.instance_id is not None:
        await show_instance(runtime, who.email, body.instance_id)  # 404 unless visible
    request = ValidateRequest(
        sql=body.sql,
        source="<sql>",
        window=WindowInput(
            start=body.start, end=body.end, window=body.window, time_zone=body.time_zone
        ),
        instance=body.instance_id,
        values=values_from_mapping(dict(body.parameters or {})),
    )
    checked = await check(
        request,
        sandbox_mode=runtime.sandbox_mode,
        sandbox_config=runtime.settings.sandbox_config,
        runtime=runtime,
        email=who.email,
    )
    return ValidateOut(
        problems=[problem_item(p) for p in checked.problems], window=window_out(checked.window)
    )
