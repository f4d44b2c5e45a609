"""What every catalogued table must hold, shared by the per-family fact tests."""

from __future__ import annotations

from amc_manager.catalogue import CATALOGUE, ColumnRole, DataType, Table, ThresholdClass

READ_ON = "2026-12-06"


def table(name: str) -> Table:
    found = CATALOGUE.table(name)
    assert found is not None, f"{name} is not catalogued"
    return found


def assert_well_described(name: str, column_count: int) -> None:
    """Every column typed, classed, with a role and words; the table's source and date."""
    t = table(name)
    assert len(t.columns) == column_count
    for c in t.columns:
        assert isinstance(c.data_type, DataType), (name, c.name)
        assert isinstance(c.threshold, ThresholdClass), (name, c.name)
        assert isinstance(c.role, ColumnRole), (name, c.name)
        assert c.description.strip(), (name, c.name)
        assert c.name == c.name.lower() and " " not in c.name, (name, c.name)
    assert t.description.strip()
    assert t.provenance.as_of == READ_ON
    assert t.provenance.source.startswith("idealerror/amazon-ads-api-docs:")


def assert_threshold(name: str, column: str, expected: str) -> None:
    found = table(name).column(column)
    assert found is not None, f"{name}.{column} is not catalogued"
    assert found.threshold is ThresholdClass(expected)
