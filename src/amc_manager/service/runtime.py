"""The composition root: the store, AMC access and the engine of one process, built from Settings.

AMC access (the embedded sandbox, or an HTTP pool for the real API) opens on first use, so
commands that never call AMC load neither the sandbox nor DuckDB nor pyarrow (contracts.md).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from amc_manager.client import (
    AmcClient,
    AuditEvent,
    LwaCredentials,
    RetryPolicy,
    Secret,
    TokenCipher,
)
from amc_manager.config import Settings
from amc_manager.engine.budget import StoreBudget
from amc_manager.engine.tokens import DatabaseTokenStore
from amc_manager.errors import ConfigurationError
from amc_manager.storage import open_results
from amc_manager.store import Store, database_url_for

if TYPE_CHECKING:
    from amc_manager.engine.engine import Engine, EngineConfig
    from amc_manager.sandbox.config import SandboxConfig
    from amc_manager.sandbox.embedded import EmbeddedSandbox

DEFAULT_DAILY_QUOTA = 30  # AMC's API reference: 30 ad-hoc executions per instance per day
PRIVATE_DIR = 0o700


class StoreAuditSink:
    """Writes every client request to the audit log, in batches (one insert per short burst
    rather than one transaction per HTTP request); `flush` writes what is pending."""

    BATCH_DELAY = 0.2

    def __init__(self, store: Store) -> None:
        self._store = store
        self._buffer: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.observer: Callable[[AuditEvent], None] | None = None  # e.g. the REST API's metrics

    def record(self, event: AuditEvent) -> None:
        self.record_as(event, event.user)

    def record_as(self, event: AuditEvent, acting: str) -> None:
        """The event of a call made for `acting` with the token of `event.user`."""
        if self.observer is not None:
            self.observer(event)
        self._buffer.append(
            {
                "at": event.at,
                "user_email": acting,
                "token_owner": event.user,
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


class ActingAudit:
    """The audit sink of calls one user makes with another user's token: each row records
    both (contracts.md)."""

    def __init__(self, sink: StoreAuditSink, acting: str) -> None:
        self._sink = sink
        self.acting = acting

    def record(self, event: AuditEvent) -> None:
        self._sink.record_as(event, self.acting)


def private_home(home: Path) -> Path:
    """AMC_HOME exists and is readable by its owner only (advertisers' results live there)."""
    home.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if home.stat().st_mode & 0o077:
        home.chmod(PRIVATE_DIR)
    return home


def local_fernet_key(home: Path) -> Secret:
    """Sandbox mode only: a key generated once and kept in AMC_HOME (0600), never replaced."""
    return _local_key(home / "fernet.key", TokenCipher.generate_key)


def local_secret_key(home: Path) -> Secret:
    """Sandbox mode only: AMC_SECRET_KEY generated once and kept in AMC_HOME (0600)."""
    return _local_key(home / "secret.key", lambda: secrets.token_urlsafe(48))


def _local_key(path: Path, generate: Callable[[], str]) -> Secret:
    private_home(path.parent)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(generate())
    return Secret(path.read_text(encoding="utf-8").strip())


class Runtime:
    """Opens the store now and AMC access (embedded sandbox or the real API) when first needed."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        private_home(settings.amc_home)  # results, caches and local keys live there
        self.store = Store(database_url_for(settings.database_url, settings.amc_home))
        self.audit = StoreAuditSink(self.store)
        # Result files: written to AMC_RESULTS_URL, each read where the store says it is.
        self.results = open_results(settings.results_location, s3_endpoint=settings.s3_endpoint_url)
        self.embedded: EmbeddedSandbox | None = None
        self._sandbox_config: SandboxConfig | None = None
        self._http: httpx.AsyncClient | None = None
        self._clients: dict[tuple[str, str], AmcClient] = {}
        self._cipher: TokenCipher | None = None
        self._budget: StoreBudget | None = None
        self._engine: Engine | None = None

    async def __aenter__(self) -> Runtime:
        from amc_manager.service.keys import verify_fernet_keys, verify_secret_key

        await self.store.open()
        try:
            key = self.fernet_key()
            self._cipher = TokenCipher(key)
            await verify_fernet_keys(self.store, key.reveal())
            if self.settings.secret_key is not None:
                await verify_secret_key(self.store, self.settings.secret_key.get_secret_value())
        except BaseException:  # a refused key: nothing stays open behind the error
            await self.store.aclose()
            raise
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
        elif self._http is not None:
            await self._http.aclose()
        await self.store.aclose()

    def fernet_key(self) -> Secret:
        """FERNET_KEY as given (one key or several, comma-separated), or sandbox mode's own."""
        configured = self.settings.fernet_key
        if configured is not None:
            return Secret(configured.get_secret_value())
        if self.settings.use_real_api:
            raise ConfigurationError("FERNET_KEY is required when AMC_USE_REAL_API=true")
        return local_fernet_key(self.settings.amc_home)

    async def secret_key(self) -> Secret:
        """AMC_SECRET_KEY for `amc serve` and `amc worker` (sessions, CSRF, webhooks): required
        in real mode, generated once into AMC_HOME in sandbox mode; checked against the
        store's fingerprint (exit 2 when it differs)."""
        from amc_manager.service.keys import verify_secret_key

        configured = self.settings.secret_key
        if configured is not None:
            return Secret(configured.get_secret_value())  # checked when the runtime opened
        if self.settings.use_real_api:
            raise ConfigurationError(
                "AMC_SECRET_KEY is required by amc serve and amc worker when AMC_USE_REAL_API=true",
                hint="set it to 32 or more random characters, the same for every process",
            )
        key = local_secret_key(self.settings.amc_home)
        await verify_secret_key(self.store, key.reveal())
        return key

    @property
    def sandbox_mode(self) -> bool:
        return not self.settings.use_real_api

    @property
    def cipher(self) -> TokenCipher:
        assert self._cipher is not None, "runtime not open"
        return self._cipher

    @property
    def sandbox_config(self) -> SandboxConfig | None:
        """The embedded sandbox's knobs (sandbox mode only), read once."""
        if self._sandbox_config is None and self.sandbox_mode:
            from amc_manager.sandbox.config import load_config

            self._sandbox_config = load_config(self.settings.sandbox_config)
        return self._sandbox_config

    @property
    def http(self) -> httpx.AsyncClient:
        """The process's one HTTP pool to AMC; in sandbox mode the embedded sandbox's client."""
        if self._http is None:
            if self.sandbox_mode:
                from amc_manager.sandbox.embedded import EmbeddedSandbox

                config = self.sandbox_config
                assert config is not None
                self.embedded = EmbeddedSandbox(config, self.settings.sandbox_state_dir)
                self._http = self.embedded.client
            else:
                self._http = httpx.AsyncClient(timeout=httpx.Timeout(60, connect=10))
        return self._http

    def credentials(self) -> LwaCredentials:
        config = self.sandbox_config
        if config is not None:
            return LwaCredentials(config.client_id, Secret(config.client_secret))
        assert self.settings.client_id and self.settings.client_secret
        return LwaCredentials(
            self.settings.client_id, Secret(self.settings.client_secret.get_secret_value())
        )

    def endpoints(self) -> dict[str, str | None]:
        """The API and token hosts: the embedded sandbox's, or the settings' overrides."""
        if self.sandbox_mode:
            from amc_manager.sandbox.embedded import EMBEDDED_BASE_URL

            return {
                "api_base_url": EMBEDDED_BASE_URL,
                "lwa_token_url": f"{EMBEDDED_BASE_URL}/auth/o2/token",
                "lwa_auth_url": f"{EMBEDDED_BASE_URL}/ap/oa",
            }
        return {
            "api_base_url": self.settings.api_base_url,
            "lwa_token_url": self.settings.lwa_token_url,
            "lwa_auth_url": self.settings.lwa_auth_url,
        }

    def token_store(self) -> DatabaseTokenStore:
        return DatabaseTokenStore(self.store, self.cipher, self.credentials().client_id)

    async def client(self, email: str, acting: str | None = None) -> AmcClient:
        """A client calling AMC with `email`'s token for `acting` (default: `email` itself),
        sharing the process's HTTP pool, the store's budget and, per token, one refresher.
        Which token a call should use is the application layer's choice
        (`service.access.client_for`)."""
        key = (email, acting or email)
        if key not in self._clients:
            assert self._budget is not None, "runtime not open"
            scale = self.settings.time_scale
            hosts = self.endpoints()
            own = key[1] == email
            client = AmcClient(
                http=self.http,
                credentials=self.credentials(),
                token_store=self.token_store(),
                user=email,
                budget=self._budget,
                audit=self.audit if own else ActingAudit(self.audit, key[1]),
                retry=RetryPolicy(base_delay=0.5 / scale, max_delay=20.0 / scale),
                api_base_url=hosts["api_base_url"],
                lwa_token_url=hosts["lwa_token_url"],
            )
            if not own:  # one refresher per token, so refreshes stay coalesced
                client.tokens = (await self.client(email)).tokens
            self._clients[key] = client
        return self._clients[key]

    def engine_config(self) -> EngineConfig:
        from amc_manager.engine.engine import EngineConfig

        s = self.settings
        quota = s.daily_adhoc_quota
        if quota is None:
            config = self.sandbox_config
            quota = DEFAULT_DAILY_QUOTA if config is None else config.daily_adhoc_quota
        return EngineConfig(
            max_active_per_instance=s.max_active_per_instance,
            max_active_per_account=s.max_active_per_account,
            daily_adhoc_quota=quota,
            poll_interval=s.poll_interval,
            lease_seconds=s.lease_seconds,
            time_scale=s.time_scale,
        )

    def engine(self) -> Engine:
        """This process's one engine (one lease owner: detaching releases what it holds)."""
        if self._engine is None:
            from amc_manager.engine.engine import Engine

            self._engine = Engine(
                self.store,
                self.client,
                self.settings.results_dir,
                self.engine_config(),
                clock=self.clock,
                results=self.results,
            )
        return self._engine


async def ready(runtime: Runtime) -> tuple[bool, str | None]:
    """Whether the store answers and is at the code's schema; its revision."""
    from amc_manager.store.store import head_revision

    revision = await runtime.store.schema_revision()
    return revision == head_revision(), revision


async def store_revision(settings: Settings) -> str | None:
    """Open (and so migrate) the store; its schema revision."""
    private_home(settings.amc_home)
    async with Store(database_url_for(settings.database_url, settings.amc_home)) as store:
        return await store.schema_revision()
