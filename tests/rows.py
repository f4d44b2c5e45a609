"""Result rows compared as multisets: AMC (and SQL) fix no row order without an ORDER BY."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence

SHOWN = 20  # rows listed per side in a failure message


class _NaN:
    """Stands for every float NaN, so that a row holding NaN equals itself."""

    def __repr__(self) -> str:
        return "nan"


NAN = _NaN()


def frozen(value: object) -> Hashable:
    """A hashable stand-in for `value`, equal exactly when the values are equal.

    Lists and tuples both become tuples (a CSV row and a DB-API row compare alike), mappings
    become frozensets of their items (column order is not row order), NaN equals NaN.
    """
    if isinstance(value, Mapping):
        return frozenset((key, frozen(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(frozen(item) for item in value)
    if isinstance(value, float) and value != value:
        return NAN
    assert isinstance(value, Hashable), f"unhashable value in a row: {value!r}"
    return value


def _counted(rows: Iterable[object]) -> tuple[Counter[Hashable], dict[Hashable, object]]:
    """Each row's multiplicity, and one original per row to show in messages."""
    counts: Counter[Hashable] = Counter()
    shown: dict[Hashable, object] = {}
    for row in rows:
        key = frozen(row)
        counts[key] += 1
        shown.setdefault(key, row)
    return counts, shown


def difference(
    actual: Iterable[object], expected: Iterable[object]
) -> tuple[list[tuple[int, object]], list[tuple[int, object]]]:
    """(missing, unexpected) as (how many times, row): rows of one side the other lacks."""
    have, have_shown = _counted(actual)
    want, want_shown = _counted(expected)
    missing = [(n, want_shown[key]) for key, n in (want - have).items()]
    unexpected = [(n, have_shown[key]) for key, n in (have - want).items()]
    return missing, unexpected


def same_rows(
    actual: Iterable[object], expected: Iterable[object], *, header: bool = False
) -> bool:
    """Whether both hold the same rows as many times each, in any order.

    With `header`, the first row of each (the column names) must be equal as is.
    """
    actual, expected = list(actual), list(expected)
    if header:
        if actual[:1] != expected[:1]:
            return False
        actual, expected = actual[1:], expected[1:]
    missing, unexpected = difference(actual, expected)
    return not missing and not unexpected


def assert_same_rows(
    actual: Iterable[object], expected: Iterable[object], *, header: bool = False, label: str = ""
) -> None:
    """Fails with the rows each side lacks unless `same_rows(actual, expected, header=header)`."""
    __tracebackhide__ = True
    actual, expected = list(actual), list(expected)
    where = f" [{label}]" if label else ""
    if header:
        if actual[:1] != expected[:1]:
            raise AssertionError(
                f"headers differ{where}: {actual[:1] or 'none'} != {expected[:1] or 'none'}"
            )
        actual, expected = actual[1:], expected[1:]
    missing, unexpected = difference(actual, expected)
    if missing or unexpected:
        raise AssertionError(
            f"rows differ (order ignored){where}: {len(actual)} rows, {len(expected)} expected"
            + _listed("missing (expected, not in actual)", missing)
            + _listed("unexpected (in actual, not expected)", unexpected)
        )


def _listed(title: str, rows: Sequence[tuple[int, object]]) -> str:
    if not rows:
        return ""
    lines = [f"\n  {title}: {sum(n for n, _ in rows)}"]
    lines += [f"\n    {f'{n} x ' if n > 1 else ''}{row!r}" for n, row in rows[:SHOWN]]
    if len(rows) > SHOWN:
        lines.append(f"\n    ... and {len(rows) - SHOWN} more distinct rows")
    return "".join(lines)
