"""AMC-only SQL functions and clock-dependent values, rewritten into what DuckDB runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlglot import exp

from amc_manager.sandbox.dialect import invalid


def _function(name: str, *arguments: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(arguments))


def _timestamp(value: exp.Expr) -> exp.Expr:
    return exp.cast(value, "TIMESTAMP")


def _seconds_between(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    # Whole seconds from start to end, truncated toward zero like Spark's LONG arithmetic.
    millis = exp.Sub(
        this=_function("epoch_ms", _timestamp(end)),
        expression=_function("epoch_ms", _timestamp(start)),
    )
    return exp.IntDiv(this=exp.Paren(this=millis), expression=exp.Literal.number(1000))


def _from_utc(moment: exp.Expr, zone: exp.Expr) -> exp.Expr:
    # The connection runs with TimeZone=UTC, so the cast reads the naive value as UTC and
    # timezone() renders it as the zone's wall-clock time (a naive TIMESTAMP).
    return _function("timezone", zone, exp.cast(_timestamp(moment), "TIMESTAMPTZ"))


def _to_utc(moment: exp.Expr, zone: exp.Expr) -> exp.Expr:
    # timezone(zone, naive) reads the wall-clock time in `zone`; timezone('UTC', ...) renders UTC.
    local = _function("timezone", zone, _timestamp(moment))
    return _function("timezone", exp.Literal.string("UTC"), local)


def _hash64(value: exp.Expr) -> exp.Expr:
    # DuckDB's hash() is an unsigned 64-bit value; keep it inside LONG's range.
    shifted = exp.BitwiseRightShift(this=_function("hash", value), expression=exp.Literal.number(1))
    return exp.cast(exp.Paren(this=shifted), "BIGINT")


def _epoch_to_utc(value: exp.Expr) -> exp.Expr:
    return _function("epoch_ms", exp.cast(value, "BIGINT"))


_TRANSLATIONS: dict[str, tuple[int, Callable[..., exp.Expr]]] = {
    "SECONDS_BETWEEN": (2, _seconds_between),
    "CONVERT_TIME_ZONE_FROM_UTC": (2, _from_utc),
    "CONVERT_TIME_ZONE_TO_UTC": (2, _to_utc),
    "HASH64": (1, _hash64),
    "EPOCH_TO_UTC_TIMESTAMP": (1, _epoch_to_utc),
}


def translate_functions(query: exp.Query, workflow_id: str) -> exp.Query:
    """Rewrite AMC-only functions (SECONDS_BETWEEN, CONVERT_TIME_ZONE_FROM_UTC, ...) and Spark's
    day-of-week numbering in place."""
    for node in list(query.walk()):
        replacement = _spark_day_of_week(node)
        if replacement is not None:
            node.replace(replacement)
        elif isinstance(node, exp.Anonymous):
            _translate_call(node, workflow_id)
    return query


def _translate_call(call: exp.Anonymous, workflow_id: str) -> None:
    name = str(call.this).upper()
    entry = _TRANSLATIONS.get(name)
    if entry is None:
        return
    arity, build = entry
    if len(call.expressions) != arity:
        raise invalid(
            workflow_id,
            f"Invalid number of arguments to function '{name}'. Was expecting {arity} arguments",
            call,
        )
    call.replace(build(*call.expressions))


# Spark numbers weekdays Sunday=1 .. Saturday=7 (DAYOFWEEK, EXTRACT(DAYOFWEEK/DOW ...)),
# Monday=1 .. Sunday=7 (DAYOFWEEK_ISO/DOW_ISO) and Monday=0 .. Sunday=6 (WEEKDAY); DuckDB's
# dayofweek/weekday are Sunday=0 .. Saturday=6, its isodow Monday=1 .. Sunday=7.
_SPARK_DAY_FIELDS = frozenset({"DAYOFWEEK", "DOW"})
_ISO_DAY_FIELDS = frozenset({"DAYOFWEEK_ISO", "DOW_ISO"})
_DATE_PART_FUNCTIONS = frozenset({"DATE_PART", "DATEPART"})


def _spark_day_of_week(node: exp.Expr) -> exp.Expr | None:
    """The DuckDB form of a Spark day-of-week value, or None for any other node."""
    if isinstance(node, exp.DayOfWeek):
        return _sunday_first(node.this)
    if isinstance(node, exp.Extract):
        return _day_field(node.name.upper(), node.expression)
    if not isinstance(node, exp.Anonymous):
        return None
    name, arguments = str(node.this).upper(), node.expressions
    if name == "WEEKDAY" and len(arguments) == 1:
        monday_one = _function("isodow", exp.TsOrDsToDate(this=arguments[0]))
        return exp.Paren(this=exp.Sub(this=monday_one, expression=exp.Literal.number(1)))
    if name in _DATE_PART_FUNCTIONS and len(arguments) == 2 and arguments[0].is_string:
        return _day_field(arguments[0].name.upper(), arguments[1])
    return None


def _day_field(field: str, value: exp.Expr) -> exp.Expr | None:
    """EXTRACT / DATE_PART of a day-of-week field; None for fields DuckDB reads as Spark does."""
    if field in _SPARK_DAY_FIELDS:
        return _sunday_first(value)
    if field in _ISO_DAY_FIELDS:
        return _function("isodow", value)
    return None


def _sunday_first(value: exp.Expr) -> exp.Expr:
    shifted = exp.Add(this=_function("dayofweek", value), expression=exp.Literal.number(1))
    return exp.Paren(this=shifted)


_DATE_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}


def pin_clock(query: exp.Query, now: datetime) -> exp.Query:
    """Replace CURRENT_DATE, CURRENT_TIMESTAMP, NOW() and CAST('today' AS DATE)-style values."""
    for node in list(query.walk()):
        replacement = _clock_value(node, now)
        if replacement is not None:
            node.replace(replacement)
    return query


def _clock_value(node: exp.Expr, now: datetime) -> exp.Expr | None:
    if isinstance(node, exp.CurrentDate):
        return _date(now)
    if isinstance(node, exp.CurrentTimestamp) or (
        isinstance(node, exp.Anonymous) and str(node.this).upper() == "NOW"
    ):
        return _moment(now)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        return _special_cast(str(node.this.this).strip().lower(), node.to, now)
    return None


def _special_cast(word: str, to: exp.DataType, now: datetime) -> exp.Expr | None:
    # Spark's special date/time strings, which AMC documents instead of GETDATE().
    if word == "epoch":
        now = datetime(1970, 1, 1)
        word = "now" if to.is_type("timestamp") else "today"
    if to.is_type("date"):
        if word in _DATE_WORDS:
            return _date(now + timedelta(days=_DATE_WORDS[word]))
        if word == "now":
            return _date(now)
    if to.is_type("timestamp"):
        if word == "now":
            return _moment(now)
        if word in _DATE_WORDS:
            midnight = datetime.combine(now.date(), datetime.min.time())
            return _moment(midnight + timedelta(days=_DATE_WORDS[word]))
    return None


def _date(moment: datetime) -> exp.Expr:
    return exp.cast(exp.Literal.string(moment.date().isoformat()), "DATE")


def _moment(moment: datetime) -> exp.Expr:
    return exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMP")
