"""Aggregation thresholds on a result: remove or fold rows that stand for too few users (6.4)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from amc_manager.catalogue import ThresholdClass

# The hidden list column every result carries (see userlists); -1 marks rows without a user.
USERS = "__amc_users__"
_RESULT = "__amc_result"


@dataclass(frozen=True)
class ColumnPolicy:
    """How one output column takes part in thresholds and folding."""

    threshold: ThresholdClass
    metric: bool  # an aggregate such as COUNT/SUM: summed when rows fold together

    @property
    def sensitive(self) -> bool:
        """Values set to NULL when their row is under threshold."""
        return not self.metric and self.threshold is not ThresholdClass.NONE


@dataclass(frozen=True)
class PrivacyPlan:
    """Everything the threshold step needs besides the result itself."""

    columns: tuple[ColumnPolicy, ...]
    floor: int  # minimum users from grouping keys that are not output (e.g. GROUP BY user_id)
    enforce: bool  # False when aggregation controls are disabled (synthetic data only)
    fold: bool  # REMOVE_VALUES or a discriminator column: fold instead of dropping rows
    discriminator: bool
    user_count: bool
    reason: bool
    data_source: str


def apply_thresholds(
    conn: duckdb.DuckDBPyConnection, result: pa.Table, plan: PrivacyPlan
) -> pa.Table:
    """The rows of `result` (last column: user lists) that may be shown, plus privacy columns.

    Output: the data columns in order, then discriminator (BOOLEAN), distinct user count
    (LONG) and filtered reason (STRING), each only when requested.
    """
    names = [f"c{i}" for i in range(len(plan.columns))]
    conn.register(_RESULT, result.rename_columns([*names, USERS]))
    try:
        if plan.fold:
            summable = [_summable(result.schema.field(i).type) for i in range(len(names))]
            sql = _folding_sql(names, plan, summable)
        else:
            sql = _removal_sql(names, plan)
        table: pa.Table = conn.sql(sql).to_arrow_table()
        return table
    finally:
        conn.unregister(_RESULT)


def _summable(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_decimal(data_type)
    )


def _measured(source: str, names: list[str], plan: PrivacyPlan, extra: str = "") -> str:
    """Two CTEs, the last named `checked_<source>`: the rows of `source` with their user list
    (__u), distinct users (__n), requirement (__req) and verdict (__ok)."""
    requirements = [str(plan.floor)] + [
        f"CASE WHEN {name} IS NOT NULL THEN {policy.threshold.min_users} ELSE 1 END"
        for name, policy in zip(names, plan.columns, strict=True)
        if policy.threshold is not ThresholdClass.NONE
    ]
    distinct = f"list_distinct({USERS})"
    count = f"len({distinct}) - CASE WHEN list_contains({distinct}, -1) THEN 1 ELSE 0 END"
    # A row standing for no user at all (segment_metadata alone) has nobody to protect.
    verdict = "(len(__u) = 0 OR __n = 0 OR __n >= __req)" if plan.enforce else "TRUE"
    measures = f"{USERS} AS __u, {count} AS __n, greatest({', '.join(requirements)}) AS __req"
    return (
        f"m_{source} AS (SELECT *, {measures}{extra} FROM {source}), "
        f"checked_{source} AS (SELECT *, {verdict} AS __ok FROM m_{source})"
    )


def _extras(plan: PrivacyPlan, discriminator: str, reason: str) -> list[str]:
    extras = []
    if plan.discriminator:
        extras.append(f"{discriminator} AS __disc")
    if plan.user_count:
        cap = "CASE WHEN __req >= 100 THEN 100 ELSE 2 END"
        extras.append(f"CASE WHEN __n > 0 THEN CAST(least(__n, {cap}) AS BIGINT) END AS __cnt")
    if plan.reason:
        extras.append(f"{reason} AS __reason")
    return extras


def _reason(plan: PrivacyPlan) -> str:
    source = plan.data_source.replace("'", "''")
    return (
        f"CAST(__n AS VARCHAR) || ' ''{source}'' users < ' || CAST(__req AS VARCHAR) || ' required'"
    )


def _removal_sql(names: list[str], plan: PrivacyPlan) -> str:
    extras = _extras(plan, "FALSE", "CAST(NULL AS VARCHAR)")
    measured = _measured(_RESULT, names, plan, ", row_number() OVER () AS __rid")
    return (
        f"WITH {measured} "
        f"SELECT {', '.join([*names, *extras])} FROM checked_{_RESULT} WHERE __ok ORDER BY __rid"
    )


def _folding_sql(names: list[str], plan: PrivacyPlan, summable: list[bool]) -> str:
    """Under-threshold rows lose their sensitive values and merge into rows now identical."""
    pairs = list(zip(names, plan.columns, strict=True))
    dims = [n for n, p in pairs if not p.metric]
    merged_metrics = [
        f"{'sum' if summable[i] else 'any_value'}({n}) AS {n}"
        for i, (n, p) in enumerate(pairs)
        if p.metric
    ]
    blanked = [f"CASE WHEN __ok THEN {n} END AS {n}" if p.sensitive else n for n, p in pairs]
    partition = f"PARTITION BY {', '.join(dims)}" if dims else ""
    return f"""
WITH {_measured(_RESULT, names, plan, ", row_number() OVER () AS __rid")},
blanked AS (
  SELECT {", ".join(blanked)}, {USERS}, NOT __ok AS __f, __rid,
    CASE WHEN NOT __ok THEN {_reason(plan)} END AS __why, CASE WHEN NOT __ok THEN __n END AS __fn
  FROM checked_{_RESULT}),
keyed AS (SELECT *, bool_or(__f) OVER ({partition}) AS __merge FROM blanked),
merged AS (
  SELECT {", ".join([*dims, *merged_metrics])}, list_distinct(flatten(list({USERS}))) AS {USERS},
    bool_or(__f) AS __absorbed, arg_min(__why, __fn) AS __why, min(__rid) AS __rid
  FROM keyed GROUP BY {", ".join([*dims, "CASE WHEN __merge THEN 0 ELSE __rid END"])}),
{_measured("merged", names, plan)}
SELECT {", ".join([*names, *_extras(plan, "__absorbed", "__why")])}
FROM checked_merged WHERE __ok ORDER BY __rid
"""
