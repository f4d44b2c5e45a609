"""The tests' own row comparison: multisets of rows, headers kept in place, readable failures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.rows import assert_same_rows, same_rows


def test_order_is_ignored_but_multiplicity_counts() -> None:
    assert same_rows([["a", "1"], ["b", None]], [["b", None], ["a", "1"]])
    assert not same_rows([["a", "1"], ["a", "1"]], [["a", "1"]])
    assert not same_rows([["a", "1"]], [["a", "2"]])


def test_none_and_mixed_types_need_no_sorting() -> None:
    actual = [{"zip": None, "n": 2}, {"zip": "10001", "n": Decimal("1.5")}, {"zip": 7, "n": 1}]
    expected = [{"n": 1, "zip": 7}, {"zip": "10001", "n": Decimal("1.5")}, {"n": 2, "zip": None}]
    assert_same_rows(actual, expected)


def test_nested_values_and_nan() -> None:
    assert same_rows([(float("nan"), ["x", "y"])], [[float("nan"), ("x", "y")]])
    assert not same_rows([{"c": ["x", "y"]}], [{"c": ["y", "x"]}])


def test_header_stays_first() -> None:
    assert same_rows([["h"], ["1"], ["2"]], [["h"], ["2"], ["1"]], header=True)
    assert not same_rows([["1"], ["h"], ["2"]], [["h"], ["2"], ["1"]], header=True)
    with pytest.raises(AssertionError, match="headers differ"):
        assert_same_rows([["g"], ["1"]], [["h"], ["1"]], header=True)


def test_failure_names_the_rows_each_side_lacks() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_same_rows([["a"], ["a"], ["c"]], [["a"], ["b"]], label="daily")
    message = str(caught.value)
    assert "[daily]: 3 rows, 2 expected" in message
    assert "missing (expected, not in actual): 1\n    ['b']" in message
    assert "unexpected (in actual, not expected): 2\n    ['a']\n    ['c']" in message
