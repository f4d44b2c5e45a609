"""Synthetic rows for tables the sandbox has no bespoke model of (the configured extra tables).

Each day holds a fixed number of rows, each standing for one user of the population drawn by
activity, so user counts and aggregation thresholds behave as on the modelled tables. Every
value is a stable hash of (seed, table, column, day, row): the same config gives the same rows
in every process. Values follow the column's type and threshold class: low-class dimensions
take a few values (so groups pass thresholds), high-class ones many, VERY_HIGH ones are unique
per row, metrics are small numbers; `user_id` is the user's id, timestamps the row's time.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyarrow as pa

from amc_manager.catalogue import Column, DataType, Table, ThresholdClass
from amc_manager.sandbox.columns import ARROW_TYPES, Columns, assemble, decimals
from amc_manager.sandbox.daily import DAY_SECONDS, Frame, World, day_start
from amc_manager.sandbox.population import I64, U64, hash64, hex_strings, unit

USER_ID = "user_id"
DEFAULT_ROWS_PER_DAY = 500
_ROW_BITS = 20  # rows per day stay below 2**20 (the config caps them at a million)
# Distinct values of a dimension by class: few for LOW (groups reach their users), many above.
_FEW, _MANY = 8, 200
_DIMENSION = frozenset({ThresholdClass.NONE, ThresholdClass.LOW})
_OPAQUE = frozenset({ThresholdClass.VERY_HIGH, ThresholdClass.INTERNAL})


def _stream(*names: str) -> int:
    """A stable salt per table or column (Python's hash() differs between processes)."""
    digest = hashlib.blake2b("\0".join(names).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def day_frame(world: World, table: Table, day: int, rows: int) -> Frame:
    """One day's rows of `table`: their time (epoch seconds), user index and row key."""
    seed = world.config.seed
    key = (np.int64(day) << _ROW_BITS) + np.arange(rows, dtype=np.int64)
    seconds = (unit(hash64(seed, _stream(table.name, "#time"), key)) * DAY_SECONDS).astype(np.int64)
    user = world.everyone.draw(unit(hash64(seed, _stream(table.name, "#user"), key)))
    order = np.argsort(seconds, kind="stable")
    return {"ts": day_start(day) + seconds[order], "user": user[order], "key": key[order]}


def build(world: World, table: Table, frame: Frame) -> pa.Table:
    """The Arrow rows of `table` for generated rows `frame` (a _Builder of data.py)."""
    columns: Columns = {c.name: _values(world, table, c, frame) for c in table.columns}
    return assemble(table, columns, frame["user"])


def _values(world: World, table: Table, column: Column, f: Frame) -> pa.Array[Any]:
    h = hash64(world.config.seed, _stream(table.name, column.name), f["key"])
    kind, cls = column.data_type, column.threshold
    if kind is DataType.TIMESTAMP:
        return pa.array(f["ts"] * 1000, pa.timestamp("ms"))
    if kind is DataType.DATE:
        return pa.array((f["ts"] // DAY_SECONDS).astype(np.int32), pa.date32())
    if kind is DataType.STRING:
        if column.name == USER_ID:
            return world.user_ids.take(np.asarray(f["user"], np.int64))
        return _strings(world, column, h)
    if kind is DataType.BOOLEAN:
        return pa.array((h & np.uint64(1)).astype(np.bool_), pa.bool_())
    if kind is DataType.DECIMAL:
        return decimals((h % np.uint64(1_000_000)).astype(np.int64))
    if kind is DataType.DOUBLE and cls is ThresholdClass.NONE:
        cents = (h % np.uint64(10_000)).astype(np.float64)
        return pa.array(cents / 100.0, pa.float64())
    return pa.array(_numbers(cls, h), ARROW_TYPES[kind])


def _numbers(cls: ThresholdClass, h: U64) -> I64:
    """Metrics are small counts (1-5); dimensions are ids, as many as their class allows."""
    if cls is ThresholdClass.NONE:
        return 1 + (h % np.uint64(5)).astype(np.int64)
    if cls in _OPAQUE:
        return (h >> np.uint64(34)).astype(np.int64)
    few = cls in _DIMENSION
    return 1_000 + (h % np.uint64(_FEW if few else _MANY)).astype(np.int64)


def _strings(world: World, column: Column, h: U64) -> pa.Array[Any]:
    if column.threshold in _OPAQUE:
        seed = world.config.seed
        return hex_strings([h, hash64(seed, _stream(column.name, "#b"), h.astype(np.int64))])
    count = _FEW if column.threshold in _DIMENSION else _MANY
    labels = pa.array([f"{column.name} {i + 1}" for i in range(count)], pa.string())
    return labels.take((h % np.uint64(count)).astype(np.int64))
