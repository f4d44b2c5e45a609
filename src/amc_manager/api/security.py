"""Web sessions, CSRF tokens, sign-in throttling and the per-caller rate limit on mutating
routes.

A session cookie is `<user id>.<session epoch>.<issued>.<nonce>.<signature>`, signed with
HMAC-SHA256 under AMC_SECRET_KEY; it holds no secret of its own, and ends when the user's
session epoch moves on (sign-out, password change, disable: service.users). The CSRF token is
another HMAC of the session, so it needs no storage either. Throttles live in this process's
memory; one-time sign-in links are single-use secrets in the store (service.users).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_COOKIE = "amc_session"
SESSION_SECONDS = 14 * 86400


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class Session:
    """A signed-in browser: whose, made at which session epoch, when."""

    user_id: str
    epoch: int
    issued: int
    nonce: str


class SessionSigner:
    """Signs and checks session cookies and derives their CSRF tokens."""

    def __init__(self, secret_key: str, *, clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(b"amc-manager:sessions\0" + secret_key.encode()).digest()
        self._clock = clock

    def _sign(self, purpose: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{purpose}\0{payload}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    def issue(self, user_id: str, epoch: int) -> tuple[str, Session]:
        session = Session(user_id, epoch, int(self._clock()), secrets.token_urlsafe(16))
        payload = f"{user_id}.{epoch}.{session.issued}.{session.nonce}"
        return f"{payload}.{self._sign('session', payload)}", session

    def read(self, cookie: str) -> Session | None:
        """The session a cookie stands for; None when forged, malformed or too old."""
        payload, _, signature = cookie.rpartition(".")
        parts = payload.split(".")
        if len(parts) != 4 or not hmac.compare_digest(signature, self._sign("session", payload)):
            return None
        user_id, epoch, issued, nonce = parts
        if not (epoch.isdigit() and issued.isdigit()):
            return None
        if int(issued) + SESSION_SECONDS < self._clock():
            return None
        return Session(user_id, int(epoch), int(issued), nonce)

    def csrf_token(self, session: Session) -> str:
        return self._sign("csrf", f"{session.user_id}.{session.nonce}")

    def csrf_ok(self, session: Session, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf_token(session))


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


@dataclass
class SignInThrottle:
    """Failed sign-ins per e-mail and per client: after `slow_after` failures each attempt
    waits a little longer; after `refuse_after` they are refused (429) until `window`
    seconds pass without a failure. A success clears the e-mail's count."""

    slow_after: int = 3
    refuse_after: int = 10
    window: float = 15 * 60
    step: float = 0.25
    max_delay: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, _Failures] = field(default_factory=dict)

    def _get(self, key: str) -> _Failures:
        found = self._failures.get(key)
        if found is None or self.clock() - found.last > self.window:
            found = self._failures[key] = _Failures()
        return found

    def retry_after(self, *keys: str) -> float | None:
        """Seconds until a refused caller may try again; None when not refused."""
        worst = max((self._get(k) for k in keys), key=lambda f: f.count)
        if worst.count < self.refuse_after:
            return None
        return max(1.0, worst.last + self.window - self.clock())

    def delay(self, *keys: str) -> float:
        """How long to wait before answering an attempt (slowing a guesser)."""
        count = max(self._get(k).count for k in keys)
        if count < self.slow_after:
            return 0.0
        return min(self.max_delay, self.step * (count - self.slow_after + 1))

    def failed(self, *keys: str) -> None:
        for key in keys:
            entry = self._get(key)
            entry.count += 1
            entry.last = self.clock()
        if len(self._failures) > 100_000:  # a flood of distinct keys: forget the oldest half
            for key in sorted(self._failures, key=lambda k: self._failures[k].last)[:50_000]:
                del self._failures[key]

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


@dataclass
class RateLimiter:
    """A token bucket per caller for mutating requests: `burst` at once, then `rate` a second."""

    rate: float = 5.0
    burst: int = 30
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, caller: str) -> float | None:
        """None when allowed; else the seconds until the next request would be."""
        now = self.clock()
        tokens, at = self._buckets.get(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[caller] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0
        self._buckets[caller] = (tokens - 1.0, now)
        return None
