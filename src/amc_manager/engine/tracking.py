"""When to look at AMC again: list an instance's runs when the ends it would catch are worth it.

AMC runs take minutes to hours, and a run of one workflow on one instance takes about as
long as its previous runs did. So the engine learns, per instance and workflow (the saved
workflow's id, else the SQL's hash), how long AMC took from submission to the final status
(`RunTimes`), and models when each tracked run may end:

- its end is spread evenly from 90 % of the shortest run seen (`margin`: AMC's times are
  whole seconds) to `longest'` = top + (top - shortest) * max(m, 1) / n, where n is the number
  of the instance's own runs seen end, top the longest of them or the age of the oldest run
  still open if older, and m how many open runs are older than every run seen. The extra
  width is the uniform's unbiased upper end with few samples; with runs still open past
  every sample (early on only the quickest runs have ended: right-censoring) it is the
  maximum-likelihood end given that m runs outlived them. Their ends together then come at
  a rate of about (n - 1) / (age - shortest) whatever m is, so a run that overruns every
  run seen is looked at less and less often, and never less often than `blind_ceiling`;
- one status listing covers every run of an instance, so the instance is listed at the time
  T when the expected lag of the ends that listing would catch (the sum over its runs of
  the integral of P(ended by t) over now..T) reaches `budget` seconds: the hazard-optimal
  rule, an interval of about sqrt(2 * budget / rate) when ends come at `rate` per second.
  Many runs that may end soon: short intervals; one run in a wide window: long ones;
  runs whose window has not opened: nothing is due before it does;
- nothing learned yet for a run: looks back off with its age (a run 100 s old is looked at
  after 35 s, never less often than `blind_ceiling`).

Intervals stay within [`floor`, `ceiling`] (a run AMC fails early is still noticed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

Key = tuple[str, str]  # (instance pk, workflow id or SQL hash)
LAG_BUDGET = 0.4  # seconds at time scale 1: `PollPolicy.budget`


class Window(NamedTuple):
    """Run times learned for a workflow: the shortest and longest seen, and how many of the
    instance's own runs were seen end (runs borrowed from other instances count for the
    window's edges, not for `samples`: the instance's open runs are weighed against its own
    finished ones)."""

    shortest: float
    longest: float
    samples: int


@dataclass(frozen=True)
class PollPolicy:
    """Intervals in engine clock seconds (already divided by the time scale)."""

    floor: float
    ceiling: float
    # Nothing learned, or past every run seen: looks never further apart than this (a first
    # run of a query is not noticed minutes late).
    blind_ceiling: float | None = None
    # Expected detection lag (seconds, summed over the ends caught) a listing waits for; like
    # the intervals, in engine clock seconds (`LAG_BUDGET` divided by the time scale).
    budget: float = LAG_BUDGET
    age_share: float = 0.35
    margin: float = 0.9

    def bounded(self, seconds: float, ceiling: float | None = None) -> float:
        return min(max(seconds, self.floor), self.ceiling if ceiling is None else ceiling)

    @property
    def blind(self) -> float:
        return self.ceiling if self.blind_ceiling is None else self.blind_ceiling


Run = tuple[float, Window | None]  # (submitted at, run times learned for its workflow)


def next_poll(now: float, runs: Iterable[Run], policy: PollPolicy) -> float:
    """The instance's next listing, for its open runs (started, window): when the expected
    lag of the ends it would catch reaches `policy.budget` (see the module docstring)."""
    runs = list(runs)
    latest = now + policy.ceiling
    # Per window (one workflow): the oldest open run, and how many outlived every run seen.
    oldest: dict[Window, float] = {}
    outlived: dict[Window, int] = {}
    for started, window in runs:
        if window is not None:
            age = now - started
            oldest[window] = max(oldest.get(window, window.longest), age)
            outlived[window] = outlived.get(window, 0) + (age > window.longest)
    spans: list[tuple[float, float]] = []  # each run's end: uniform over (from, to)
    for started, window in runs:
        age = max(0.0, now - started)
        if window is None:
            latest = min(latest, now + policy.bounded(age * policy.age_share, policy.blind))
            continue
        if age > window.longest:
            latest = min(latest, now + policy.blind)
        top = oldest[window]
        stretch = max(outlived[window], 1) / max(window.samples, 1)
        opens = max(now, started + window.shortest * policy.margin)
        ends = started + top + (top - window.shortest) * stretch
        spans.append((opens, max(ends, opens + policy.floor)))
    earliest = now + policy.floor
    if not spans or latest <= earliest:
        return latest
    if _expected_lag(spans, latest) < policy.budget:
        return latest
    if _expected_lag(spans, earliest) >= policy.budget:
        return earliest
    for _ in range(40):  # the expected lag grows with the listing's time: bisect
        middle = (earliest + latest) / 2
        if _expected_lag(spans, middle) >= policy.budget:
            latest = middle
        else:
            earliest = middle
    return latest


def _expected_lag(spans: list[tuple[float, float]], at: float) -> float:
    """Expected sum of the lags at which a listing at `at` sees the runs whose end is uniform
    over each (from, to) end."""
    lag = 0.0
    for start, end in spans:
        if at > end:
            lag += at - (start + end) / 2
        elif at > start:
            lag += (at - start) ** 2 / (2 * (end - start))
    return lag


def check_due(now: float, started: float, window: Window | None, policy: PollPolicy) -> float:
    """When a run submitted at `started` alone on its instance should next be looked at."""
    return next_poll(now, [(started, window)], policy)


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

    def window(self, key: Key) -> Window | None:
        """The workflow's window, with the count of the instance's own runs seen; None while
        too few were seen."""
        own = self._by_key.get(key)
        for seen in (own, self._by_work.get(key[1])):
            if seen is not None and len(seen) >= self.min_samples:
                return Window(min(seen), max(seen), len(own) if own else 0)
        return None
