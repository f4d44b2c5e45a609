"""The `amc` command line."""

from __future__ import annotations
