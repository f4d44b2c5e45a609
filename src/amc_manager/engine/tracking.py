"""When to look at AMC again: poll an instance when one of its runs is likely to have ended.

AMC runs take minutes to hours, and a run of one workflow on one instance takes about as
long as its previous runs did. So the engine learns, per instance and workflow (the saved
workflow's id, else the SQL's hash), how long AMC took from submission to the final status,
and schedules each tracked run by where it stands against that:

- nothing learned yet: looks back off with the run's age (a run 5 minutes old is looked at
  every minute, never less often than `blind_ceiling`);
- before the shortest run seen (less a margin): nothing can be due, so one look when that
  window opens (or after `ceiling`, so a run AMC fails early is still noticed);
- inside the window of run times seen: looks every `spread_share` of the window's width (a
  window of 15 to 60 minutes: every 21.6 s), never more often than `floor`;
- longer than every run seen: the interval grows slowly with the overrun (up to
  `blind_ceiling`).

One status listing covers every run of an instance, so an instance is polled at the earliest
time any of its runs asks for, and all its runs are put on that time (`Engine._track`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

Key = tuple[str, str]  # (instance pk, workflow id or SQL hash)


@dataclass(frozen=True)
class PollPolicy:
    """Intervals in engine clock seconds (already divided by the time scale)."""

    floor: float
    ceiling: float
    # Nothing learned, or past every run seen: looks never further apart than this (a first
    # run of a query is not noticed minutes late).
    blind_ceiling: float | None = None
    spread_share: float = 0.008
    age_share: float = 0.2
    overrun_share: float = 0.02
    margin: float = 0.9

    def bounded(self, seconds: float, ceiling: float | None = None) -> float:
        return min(max(seconds, self.floor), self.ceiling if ceiling is None else ceiling)

    @property
    def blind(self) -> float:
        return self.ceiling if self.blind_ceiling is None else self.blind_ceiling


def check_due(
    now: float, started: float, window: tuple[float, float] | None, policy: PollPolicy
) -> float:
    """When a run submitted at `started` should next be looked at, given the window
    (shortest, longest) of run times learned for its workflow (None: nothing learned)."""
    age = max(0.0, now - started)
    if window is None:
        return now + policy.bounded(age * policy.age_share, policy.blind)
    shortest, longest = window
    opens = started + shortest * policy.margin
    if now < opens:
        return min(opens, now + policy.ceiling)
    step = (longest - shortest) * policy.spread_share
    overrun = age - longest
    if overrun > 0:
        return now + policy.bounded(step + overrun * policy.overrun_share, policy.blind)
    return now + policy.bounded(step)


def next_poll(
    now: float, runs: Iterable[tuple[float, tuple[float, float] | None]], policy: PollPolicy
) -> float:
    """The instance's next poll: the earliest any of its runs (started, window) asks for."""
    due = [check_due(now, started, window, policy) for started, window in runs]
    return min(due) if due else now + policy.ceiling


class RunTimes:
    """Recent run times (submission to AMC's final status) per instance and workflow.

    Only the workflow's own history counts (another query on the same instance may take far
    longer, and opening its window late would delay noticing this one's end): first on the
    run's instance, else the same workflow on any instance while this one has too few.
    """

    def __init__(self, keep: int = 50, min_samples: int = 3) -> None:
        self.keep = keep
        self.min_samples = min_samples
        self._by_key: dict[Key, deque[float]] = {}
        self._by_work: dict[str, deque[float]] = {}

    def observe(self, key: Key, seconds: float) -> None:
        if seconds > 0:
            self._by_key.setdefault(key, deque(maxlen=self.keep)).append(seconds)
            self._by_work.setdefault(key[1], deque(maxlen=self.keep)).append(seconds)

    def replace(self, samples: dict[Key, list[float]]) -> None:
        """Take `samples` (the store's recent history: every worker's runs) for these keys."""
        for key, values in samples.items():
            self._by_key[key] = deque(values[-self.keep :], maxlen=self.keep)
            self._by_work.setdefault(key[1], deque(maxlen=self.keep)).extend(values)

    def window(self, key: Key) -> tuple[float, float] | None:
        """(shortest, longest) seen for the workflow; None while too few were seen."""
        for seen in (self._by_key.get(key), self._by_work.get(key[1])):
            if seen is not None and len(seen) >= self.min_samples:
                return min(seen), max(seen)
        return None
