"""The durable execution engine: submission, tracking, downloads, results."""

from __future__ import annotations
