"""Property tests against the sandbox's SQL engine: any text comes back exactly as given, and an
`IN {{name}}` list selects exactly the rows whose value is in it (short lists and VALUES CTEs)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amc_manager.sql import KnownSchema, ParamValue, lint, prepare
from tests.sql.helpers import FakeData, run_prepared

# Any printable Unicode: everything but NUL and surrogates (control characters, quotes,
# backslashes, newlines, braces, SQL keywords all included).
TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=40,
)
SCHEMA = KnownSchema.from_catalogue()
ROWS = FakeData({"dsp_impressions": [{"impressions": 1, "__user_key": u} for u in (1, 2, 3)]})
PLACEHOLDER_SQL = "SELECT {{value}} AS value, SUM(impressions) AS n FROM dsp_impressions"
CUSTOM_SQL = """-- @param value STRING
SELECT CUSTOM_PARAMETER('value') AS value, SUM(impressions) AS n FROM dsp_impressions"""
IN_LIST_SQL = """SELECT campaign, SUM(impressions) AS n
FROM dsp_impressions
WHERE campaign IN {{names}}
GROUP BY campaign"""


def _round_trip(sql: str, given: ParamValue) -> object:
    values = {given.name: given}
    assert lint(sql, schema=SCHEMA, values=values) == []
    rows = run_prepared(prepare(sql, values), ROWS)
    assert len(rows) == 1
    return rows[0]["value"]


@settings(max_examples=60, deadline=None)
@given(text=TEXT, raw=st.booleans())
def test_placeholder_text_comes_back_exactly(text: str, raw: bool) -> None:
    given = ParamValue("value", text, raw=raw, origin="test")
    assert _round_trip(PLACEHOLDER_SQL, given) == text


@settings(max_examples=60, deadline=None)
@given(text=TEXT, raw=st.booleans())
def test_custom_parameter_text_comes_back_exactly(text: str, raw: bool) -> None:
    given = ParamValue("value", text, raw=raw, origin="test")
    assert _round_trip(CUSTOM_SQL, given) == text


def _campaign_rows(universe: list[str]) -> FakeData:
    """Each campaign seen by three users, so AMC's LOW threshold (2 users) keeps its row."""
    rows = [
        {"campaign": name, "impressions": 1, "__user_key": user}
        for name in universe
        for user in (1, 2, 3)
    ]
    return FakeData({"dsp_impressions": rows})


def _selected(universe: list[str], names: list[str]) -> set[str]:
    values = {"names": ParamValue("names", names, raw=False, origin="test")}
    assert lint(IN_LIST_SQL, schema=SCHEMA, values=values) == []
    prepared = prepare(IN_LIST_SQL, values)
    assert ("VALUES" in prepared.sql) == (len(names) > 100)
    rows = run_prepared(prepared, _campaign_rows(universe))
    assert all(row["n"] == 3 for row in rows)
    return {row["campaign"] for row in rows}


@settings(max_examples=40, deadline=None)
@given(
    universe=st.lists(TEXT, min_size=1, max_size=12, unique=True),
    data=st.data(),
)
def test_short_in_list_selects_exactly_its_rows(universe: list[str], data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(universe), unique=True))
    others = data.draw(st.lists(TEXT, max_size=5, unique=True))
    names = list(dict.fromkeys(chosen + others)) or [universe[0]]
    assert _selected(universe, names) == set(universe) & set(names)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    universe=st.lists(TEXT, min_size=1, max_size=30, unique=True),
    prefix=TEXT,
    size=st.integers(min_value=101, max_value=160),
    data=st.data(),
)
def test_long_in_list_selects_exactly_its_rows(
    universe: list[str], prefix: str, size: int, data: st.DataObject
) -> None:
    chosen = data.draw(st.lists(st.sampled_from(universe), unique=True))
    names = list(dict.fromkeys(chosen + [f"{prefix}{i}" for i in range(size)]))
    assert _selected(universe, names) == set(universe) & set(names)


_PIECES = st.sampled_from(
    [
        "SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "LIMIT", "WITH", "AS", "IN", "JOIN",
        "ON", "UNION", "VALUES", "(", ")", ",", "*", "'", "''", "--", "/*", "*/", "\n", ";",
        "{{a}}", "{{", "}}", ":x", "campaign", "user_id", "dsp_impressions", "t", "t.",
        "COUNT(1)", "SUM(impressions)", "CUSTOM_PARAMETER('a')", "-- @param a LONG 1\n", "1",
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(st.one_of(_PIECES, TEXT), max_size=25))
def test_lint_never_raises(pieces: list[str]) -> None:
    """Whatever the text, the linter answers with problems, never an exception."""
    sql = " ".join(pieces)
    lint(sql, schema=SCHEMA, values={"a": ParamValue("a", ["x"], raw=False, origin="t")})
    lint(sql)
