"""Counters of what the sandbox saw, so tests assert on the server's view (`/__sandbox/stats`)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    """API requests (token grants and presigned downloads kept apart), 429s, executions."""

    started: float = field(default_factory=time.time)
    requests_total: int = 0
    requests_by_instance: Counter[str] = field(default_factory=Counter)
    requests_by_second: defaultdict[str, Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    throttled_total: int = 0
    throttled_by_second: defaultdict[str, Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    token_grants: int = 0
    downloads: int = 0
    executions_created: int = 0
    executions_by_instance: Counter[str] = field(default_factory=Counter)
    max_open_by_instance: dict[str, int] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)

    def _second(self) -> int:
        return int(time.time() - self.started)

    def api_request(self, instance: str | None) -> None:
        key = instance or "-"
        self.requests_total += 1
        self.requests_by_instance[key] += 1
        self.requests_by_second[key][self._second()] += 1

    def throttled(self, instance: str | None) -> None:
        self.throttled_total += 1
        self.throttled_by_second[instance or "-"][self._second()] += 1

    def created(self, instance: str) -> None:
        self.executions_created += 1
        self.executions_by_instance[instance] += 1

    def open_now(self, instance: str, count: int) -> None:
        if count > self.max_open_by_instance.get(instance, 0):
            self.max_open_by_instance[instance] = count

    def as_json(self) -> dict[str, Any]:
        return {
            "uptime_seconds": round(time.time() - self.started, 3),
            "requests_total": self.requests_total,
            "requests_by_instance": dict(self.requests_by_instance),
            "requests_by_second": {
                k: {str(s): n for s, n in sorted(v.items())}
                for k, v in self.requests_by_second.items()
            },
            "throttled_total": self.throttled_total,
            "throttled_by_second": {
                k: {str(s): n for s, n in sorted(v.items())}
                for k, v in self.throttled_by_second.items()
            },
            "token_grants": self.token_grants,
            "downloads": self.downloads,
            "executions_created": self.executions_created,
            "executions_by_instance": dict(self.executions_by_instance),
            "max_open_by_instance": dict(self.max_open_by_instance),
            "faults": dict(self.faults),
        }
