"""The sandbox's knobs: one validated object built from `--config` JSON and command-line flags."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from amc_manager.catalogue import (
    CATALOGUE,
    Column,
    ColumnRole,
    DataType,
    Provenance,
    Table,
    ThresholdClass,
)
from amc_manager.errors import ConfigurationError
from amc_manager.sandbox.identity import (
    MARKETPLACE_US,
    Directory,
    ExtraIdentity,
    build_account,
    build_directory,
)

DEFAULT_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
DEFAULT_REFRESH_TOKEN = "Atzr|sandbox-refresh-token"
DEFAULT_SEED = 20240601


class SandboxConfigError(ConfigurationError, ValueError):
    """A sandbox configuration file or value is unusable (exit 2, as any bad setting).

    Also a ValueError, so pydantic's validators turn it into a field error."""


class FailMarker(BaseModel):
    """Executions whose SQL contains `marker` end FAILED the first `times` times.

    Counted per marker in the sandbox's state, so the run after the `times`-th succeeds."""

    model_config = ConfigDict(extra="forbid")

    marker: str = Field(min_length=1)
    times: int = Field(1, ge=1)
    reason: str = "Internal error while running the workflow. Try again later."


class FaultConfig(BaseModel):
    """Faults injected for tests; all off by default."""

    model_config = ConfigDict(extra="forbid")

    server_error_rate: float = Field(0.0, ge=0, le=1)
    rate_limit_rate: float = Field(0.0, ge=0, le=1)
    rate_limit_burst: int = Field(1, ge=1)
    retry_after_seconds: float = Field(1.0, ge=0)
    lost_create_rate: float = Field(0.0, ge=0, le=1)
    drop_connection_rate: float = Field(0.0, ge=0, le=1)
    expired_token_as_403: bool = False
    message_shaped_errors: bool = False
    latency_ms: float = Field(0.0, ge=0)
    # When given, `latency_ms` delays only the calls about these instances (AMC instance ids).
    slow_instances: list[str] = Field(default_factory=list)
    execution_failure_rate: float = Field(0.0, ge=0, le=1)
    fail_markers: list[FailMarker] = Field(default_factory=list)
    seed: int = 7

    @field_validator("fail_markers")
    @classmethod
    def _check_markers(cls, value: list[FailMarker]) -> list[FailMarker]:
        markers = [m.marker for m in value]
        twice = sorted({m for m in markers if markers.count(m) > 1})
        if twice:
            raise ValueError(f"fail marker {twice[0]!r} is listed twice")
        return value


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _identifier(value: str, what: str) -> str:
    lowered = value.strip().lower()
    if not _NAME.match(lowered) or lowered.startswith("__"):
        raise ValueError(
            f"{what} {value!r} is not an AMC name: letters, digits and _, not starting "
            "with a digit or __"
        )
    return lowered


class ExtraColumn(BaseModel):
    """One column of an extra table; names are case-insensitive and kept lower case."""

    model_config = ConfigDict(extra="forbid")

    name: str
    data_type: DataType
    threshold: ThresholdClass = ThresholdClass.NONE
    description: str = ""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _identifier(value, "column name")

    @field_validator("data_type", "threshold", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class ExtraTable(BaseModel):
    """A table the sandbox lists in `dataSources` and answers queries on, beyond AMC's catalogue.

    Its rows are synthetic: `rows_per_day` rows for each day, each standing for one user of the
    sandbox's population (so aggregation thresholds apply as on the catalogued tables).
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    columns: list[ExtraColumn] = Field(min_length=1, max_length=500)
    window_column: str | None = None
    rows_per_day: int = Field(500, ge=0, le=1_000_000)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        name = _identifier(value, "table name")
        if name in CATALOGUE:
            raise ValueError(
                f"{name} is already one of AMC's tables; give the extra table a new name"
            )
        return name

    @model_validator(mode="after")
    def _check_columns(self) -> ExtraTable:
        names = [c.name for c in self.columns]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"table {self.name}: column {twice[0]} is listed twice")
        if self.window_column is None:
            stamps = [c.name for c in self.columns if c.data_type is DataType.TIMESTAMP]
            self.window_column = stamps[0] if stamps else None
            return self
        self.window_column = self.window_column.lower()
        chosen = next((c for c in self.columns if c.name == self.window_column), None)
        if chosen is None or chosen.data_type is not DataType.TIMESTAMP:
            raise ValueError(
                f"table {self.name}: window_column {self.window_column} must be one of its "
                "TIMESTAMP columns"
            )
        return self

    def table(self) -> Table:
        """The table in the catalogue's terms."""
        return Table(
            name=self.name,
            description=self.description or f"Extra table {self.name} (sandbox configuration).",
            columns=tuple(
                Column(c.name, c.data_type, c.threshold, c.description, _role(c.threshold))
                for c in self.columns
            ),
            provenance=Provenance("sandbox configuration: extra_tables", ""),
            window_column=self.window_column,
        )


_ENTITY = re.compile(r"^ENTITY[A-Z0-9]{6,30}$")


class AccountSpec(BaseModel):
    """The AMC account an extra identity sees; its id comes from the seed unless given."""

    model_config = ConfigDict(extra="forbid")

    account_id: str | None = None
    name: str | None = None
    marketplace_id: str = MARKETPLACE_US

    @field_validator("account_id")
    @classmethod
    def _check_account_id(cls, value: str | None) -> str | None:
        if value is not None and not _ENTITY.match(value):
            raise ValueError(
                f"account_id {value!r} is not an AMC account id (ENTITY and 6 to 30 capital "
                "letters or digits)"
            )
        return value


class IdentityConfig(BaseModel):
    """One more Login with Amazon identity: a refresh token and the AMC account it sees.

    `account` is an account of its own (`{}` for one derived from the seed) with `instances`
    instances, or `"default"` for the default identity's account and instances."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1)
    account: AccountSpec | Literal["default"] = Field(default_factory=AccountSpec)
    instances: int | None = Field(None, ge=1, le=50)

    @model_validator(mode="after")
    def _check_instances(self) -> IdentityConfig:
        if self.account == "default" and self.instances is not None:
            raise ValueError('instances goes with an account of its own, not account "default"')
        return self

    def extra(self) -> ExtraIdentity:
        """The identity as identity.build_directory takes it."""
        if self.account == "default":
            return ExtraIdentity(self.refresh_token, shares_default=True)
        return ExtraIdentity(
            self.refresh_token,
            instances=self.instances or 1,
            account_id=self.account.account_id,
            name=self.account.name,
            marketplace_id=self.account.marketplace_id,
        )


class SandboxConfig(BaseModel):
    """Everything `amc sandbox serve --config FILE.json` (or `AMC_SANDBOX_CONFIG`) may set.

    Durations are simulated seconds; `time_scale` divides every one of them (execution time,
    token lifetime, URL expiry, throttle period, Retry-After) so long AMC runs fit in a test.
    """

    model_config = ConfigDict(extra="forbid")

    seed: int = DEFAULT_SEED
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    refresh_token: str = DEFAULT_REFRESH_TOKEN
    instances: int = Field(2, ge=1, le=50)
    duration: str = "4"
    time_scale: float = Field(1.0, gt=0)
    token_lifetime_seconds: float = Field(3600.0, gt=0)
    throttle_rate: float = Field(10.0, ge=0)
    throttle_burst: int = Field(10, ge=1)
    max_running_per_instance: int = Field(10, ge=1)
    daily_adhoc_quota: int = Field(0, ge=0)
    rows_per_file: int = Field(100_000, ge=1)
    url_expiry_seconds: float = Field(600.0, gt=0)
    unknown_execution_status: Literal[400, 404] = 400
    unavailable_download_status: Literal[400, 404] = 400
    late_compile_errors: bool = False
    privacy_overlap_limit: int | None = Field(None, ge=1)
    stats_enabled: bool = False
    users: int = Field(60_000, ge=1_000)
    dsp_impressions_per_day: int = Field(40_000, ge=100)
    sponsored_ads_events_per_day: int = Field(30_000, ge=100)
    faults: FaultConfig = Field(default_factory=FaultConfig)
    extra_tables: list[ExtraTable] = Field(default_factory=list)
    # AMC Paid Features the instances subscribe to: true for all, or subscription names (as
    # AMC's paid features overview names them, e.g. "Amazon Retail Purchases") or paid table
    # names; the other paid tables are absent, as on an instance without the subscription.
    paid_features: bool | list[str] = False
    identities: list[IdentityConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_identities(self) -> SandboxConfig:
        tokens = [self.refresh_token, *(i.refresh_token for i in self.identities)]
        if len(set(tokens)) != len(tokens):
            raise ValueError("identities: every identity needs its own refresh_token")
        default_id = build_account(self.seed, 1).account_id
        given = [
            i.account.account_id
            for i in self.identities
            if isinstance(i.account, AccountSpec) and i.account.account_id
        ]
        if default_id in given or len(set(given)) != len(given):
            raise ValueError(
                "identities: every account_id must differ from the others and from the default "
                f'account {default_id} (use account "default" to share it)'
            )
        return self

    @field_validator("paid_features")
    @classmethod
    def _check_paid_features(cls, value: bool | list[str]) -> bool | list[str]:
        if isinstance(value, bool):
            return value
        known = {t.name for t in _paid_tables()} | {str(t.paid_feature) for t in _paid_tables()}
        lowered = {k.lower(): k for k in known}
        unknown = [v for v in value if v.strip().lower() not in lowered]
        if unknown:
            subscriptions = sorted({str(t.paid_feature) for t in _paid_tables()})
            raise ValueError(
                f"{unknown[0]!r} is neither a paid feature nor a paid table; paid features: "
                f"{', '.join(subscriptions) or 'none'}"
            )
        return [lowered[v.strip().lower()] for v in value]

    @field_validator("extra_tables")
    @classmethod
    def _check_extra_tables(cls, value: list[ExtraTable]) -> list[ExtraTable]:
        names = [t.name for t in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"extra table {twice[0]} is listed twice")
        return value

    @field_validator("duration")
    @classmethod
    def _check_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    def paid_tables(self) -> list[Table]:
        """The paid-feature tables the instances have (`paid_features`), in catalogue order."""
        chosen = self.paid_features
        if isinstance(chosen, bool):
            return _paid_tables() if chosen else []
        names = set(chosen)
        return [t for t in _paid_tables() if t.name in names or t.paid_feature in names]

    def extra_data_sources(self) -> list[dict[str, Any]]:
        """The tables beyond AMC's free catalogue this sandbox serves (the enabled paid tables,
        then the extra tables) as `dataSources` items, each column with its threshold class as
        `aggregationThreshold` (what `amc_manager.sql.schema_for_sandbox` reads), so a linter in
        sandbox mode knows them as this sandbox does."""
        tables = [*self.paid_tables(), *(t.table() for t in self.extra_tables)]
        return [
            {
                "dataSourceId": table.name,
                "columns": [
                    {
                        "name": c.name,
                        "dataType": c.data_type.value,
                        "aggregationThreshold": c.threshold.value,
                    }
                    for c in table.columns
                ],
            }
            for table in tables
        ]

    def directory(self) -> Directory:
        """The identities (default first) and the account and instances each one sees."""
        return build_directory(
            self.seed, self.instances, self.refresh_token, [i.extra() for i in self.identities]
        )

    def duration_range(self) -> tuple[float, float]:
        """Simulated execution duration bounds in seconds (a range draws per execution)."""
        return parse_duration(self.duration)

    def scaled(self, seconds: float) -> float:
        """Real seconds for a simulated duration."""
        return seconds / self.time_scale


def _role(threshold: ThresholdClass) -> ColumnRole:
    """An extra column's role: a metric when it needs no threshold, as the README says."""
    return ColumnRole.METRIC if threshold is ThresholdClass.NONE else ColumnRole.DIMENSION


def _paid_tables() -> list[Table]:
    return [t for t in CATALOGUE if t.paid_feature is not None]


def parse_duration(value: str) -> tuple[float, float]:
    """`"30"` or `"900-3600"` -> (low, high) seconds."""
    parts = str(value).split("-")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise SandboxConfigError(
            f"duration {value!r} is not SECONDS or MIN-MAX (e.g. 5 or 900-3600)"
        ) from None
    if len(numbers) not in (1, 2) or any(n < 0 for n in numbers) or numbers[0] > numbers[-1]:
        raise SandboxConfigError(f"duration {value!r} is not SECONDS or MIN-MAX with MIN <= MAX")
    return numbers[0], numbers[-1]


def load_config(path: Path | None, **overrides: object) -> SandboxConfig:
    """Read a JSON config file (if any) and apply command-line overrides that were given."""
    data: dict[str, object] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SandboxConfigError(f"cannot read sandbox config {path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise SandboxConfigError(f"sandbox config {path} is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise SandboxConfigError(f"sandbox config {path} must be a JSON object")
        data.update(loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return SandboxConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SandboxConfigError(f"sandbox config: {where}: {message}") from None
