"""Everything a command needs, built from Settings: store, AMC access, clients, the engine."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from amc_manager.client import (
    AmcClient,
    AuditEvent,
    LwaCredentials,
    RetryPolicy,
    Secret,
    TokenCipher,
)
from amc_manager.client.identity import Region
from amc_manager.config import Settings
from amc_manager.engine.budget import StoreBudget
from amc_manager.engine.engine import Engine, EngineConfig
from amc_manager.engine.tokens import DatabaseTokenStore
from amc_manager.errors import ConfigurationError
from amc_manager.sandbox.config import SandboxConfig, load_config
from amc_manager.sandbox.embedded import EMBEDDED_BASE_URL, EmbeddedSandbox
from amc_manager.store import Store, database_url_for

DEFAULT_DAILY_QUOTA = 30  # AMC's API reference: 30 ad-hoc executions per instance per day


class StoreAuditSink:
    """Writes every client request to the audit log, in batches (one insert per short burst
    rather than one transaction per HTTP request); `flush` writes what is pending."""

    BATCH_DELAY = 0.2

    def __init__(self, store: Store) -> None:
        self._store = store
        self._buffer: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def record(self, event: AuditEvent) -> None:
        self._buffer.append(
            {
                "at": event.at,
                "user_email": event.user,
                "instance_id": event.instance_id,
                "operation": event.operation,
                "kind": event.kind,
                "method": event.method,
                "path": event.path,
                "status": event.status,
                "attempt": event.attempt,
                "duration": event.duration,
                "error": event.error,
            }
        )
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.BATCH_DELAY, self._spawn)

    def _spawn(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self._write())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self) -> None:
        rows, self._buffer = self._buffer, []
        await self._store.record_audit(rows)

    async def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self._write()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def local_fernet_key(home: Path) -> Secret:
    """Sandbox mode only: a key generated once and kept in AMC_HOME (0600), never replaced."""
    path = home / "fernet.key"
    if path.exists():
        return Secret(path.read_text(encoding="utf-8").strip())
    home.mkdir(parents=True, exist_ok=True)
    key = TokenCipher.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return Secret(key)


class Runtime:
    """Opens the store and AMC access (embedded sandbox or the real API) for one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(database_url_for(settings.database_url, settings.amc_home))
        self.embedded: EmbeddedSandbox | None = None
        self.sandbox_config: SandboxConfig | None = None
        self.http: httpx.AsyncClient | None = None
        self.audit = StoreAuditSink(self.store)
        self._clients: dict[str, AmcClient] = {}
        self._cipher: TokenCipher | None = None
        self._budget: StoreBudget | None = None

    async def __aenter__(self) -> Runtime:
        await self.store.open()
        configured = self.settings.fernet_key
        if configured is not None:
            key = Secret(configured.get_secret_value())
        elif self.settings.use_real_api:
            raise ConfigurationError("FERNET_KEY is required when AMC_USE_REAL_API=true")
        else:
            key = local_fernet_key(self.settings.amc_home)
        self._cipher = TokenCipher(key)
        if self.settings.use_real_api:
            self.http = httpx.AsyncClient(timeout=httpx.Timeout(60, connect=10))
        else:
            self.sandbox_config = load_config(self.settings.sandbox_config)
            self.embedded = EmbeddedSandbox(self.sandbox_config, self.settings.sandbox_state_dir)
            self.http = self.embedded.client
        scale = self.settings.time_scale
        self._budget = StoreBudget(
            self.store, self.settings.request_rate * scale, recovery_seconds=5.0 / scale
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.audit.flush()
        if self.embedded is not None:
            await self.embedded.aclose()
        elif self.http is not None:
            await self.http.aclose()
        await self.store.aclose()

    @property
    def cipher(self) -> TokenCipher:
        assert self._cipher is not None, "runtime not open"
        return self._cipher

    def credentials(self) -> LwaCredentials:
        if self.sandbox_config is not None and not self.settings.use_real_api:
            return LwaCredentials(
                self.sandbox_config.client_id, Secret(self.sandbox_config.client_secret)
            )
        assert self.settings.client_id and self.settings.client_secret
        return LwaCredentials(
            self.settings.client_id, Secret(self.settings.client_secret.get_secret_value())
        )

    def endpoints(self) -> dict[str, Any]:
        if self.embedded is not None:
            return {
                "api_base_url": EMBEDDED_BASE_URL,
                "lwa_token_url": f"{EMBEDDED_BASE_URL}/auth/o2/token",
            }
        return {
            "api_base_url": self.settings.api_base_url,
            "lwa_token_url": self.settings.lwa_token_url,
        }

    def token_store(self) -> DatabaseTokenStore:
        return DatabaseTokenStore(self.store, self.cipher, self.credentials().client_id)

    async def client(self, email: str) -> AmcClient:
        """One client per user, sharing the process's HTTP pool and the store's budget."""
        if email not in self._clients:
            assert self.http is not None and self._budget is not None
            scale = self.settings.time_scale
            self._clients[email] = AmcClient(
                http=self.http,
                credentials=self.credentials(),
                token_store=self.token_store(),
                user=email,
                region=Region.NA,
                budget=self._budget,
                audit=self.audit,
                retry=RetryPolicy(base_delay=0.5 / scale, max_delay=20.0 / scale),
                **self.endpoints(),
            )
        return self._clients[email]

    def engine_config(self) -> EngineConfig:
        s = self.settings
        quota = s.daily_adhoc_quota
        if quota is None:
            quota = (
                DEFAULT_DAILY_QUOTA
                if s.use_real_api
                else (self.sandbox_config.daily_adhoc_quota if self.sandbox_config else 0)
            )
        return EngineConfig(
            max_active_per_instance=s.max_active_per_instance,
            max_active_per_account=s.max_active_per_account,
            daily_adhoc_quota=quota,
            poll_interval=s.poll_interval,
            lease_seconds=s.lease_seconds,
            time_scale=s.time_scale,
        )

    def engine(self) -> Engine:
        return Engine(self.store, self.client, self.settings.results_dir, self.engine_config())
