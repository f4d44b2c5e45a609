"""Settings read from the environment (and `.env`), built once at each entry point."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from amc_manager.errors import ConfigurationError

DEFAULT_USER = "local@amc-manager"
# contracts.md: every error says what to do; a bad setting is fixed where it was set
SETTING_HINT = "correct it in the environment or .env; README.md's Settings lists each one"


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "amc-manager"


class Settings(BaseSettings):
    """Every `AMC_*` variable of contracts.md; only entry points build one and pass it down."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    amc_home: Path = Field(default_factory=default_home, validation_alias="AMC_HOME")
    database_url: str | None = Field(None, validation_alias="AMC_DATABASE_URL")
    use_real_api: bool = Field(False, validation_alias="AMC_USE_REAL_API")
    api_base_url: str | None = Field(None, validation_alias="AMC_API_BASE_URL")
    lwa_token_url: str | None = Field(None, validation_alias="AMC_LWA_TOKEN_URL")
    lwa_auth_url: str | None = Field(None, validation_alias="AMC_LWA_AUTH_URL")
    client_id: str | None = Field(None, validation_alias="AMAZON_CLIENT_ID")
    client_secret: SecretStr | None = Field(None, validation_alias="AMAZON_CLIENT_SECRET")
    fernet_key: SecretStr | None = Field(None, validation_alias="FERNET_KEY")
    # Signs web sessions, CSRF tokens and webhooks; required by `amc serve`/`amc worker` in real
    # mode (service/keys.py), generated once into AMC_HOME in sandbox mode.
    secret_key: SecretStr | None = Field(None, validation_alias="AMC_SECRET_KEY")
    user: str = Field(DEFAULT_USER, validation_alias=AliasChoices("AMC_USER"))
    time_scale: float = Field(1.0, gt=0, validation_alias="AMC_TIME_SCALE")
    sandbox_config: Path | None = Field(None, validation_alias="AMC_SANDBOX_CONFIG")
    max_active_per_instance: int = Field(10, ge=1, validation_alias="AMC_MAX_ACTIVE_PER_INSTANCE")
    max_active_per_account: int = Field(200, ge=1, validation_alias="AMC_MAX_ACTIVE_PER_ACCOUNT")
    daily_adhoc_quota: int | None = Field(None, ge=0, validation_alias="AMC_DAILY_ADHOC_QUOTA")
    request_rate: float = Field(9.5, ge=0, validation_alias="AMC_REQUEST_RATE")
    poll_interval: float = Field(6.0, gt=0, validation_alias="AMC_POLL_INTERVAL")
    lease_seconds: float = Field(60.0, gt=0, validation_alias="AMC_LEASE_SECONDS")
    shutdown_timeout: float = Field(30.0, gt=0, validation_alias="AMC_SHUTDOWN_TIMEOUT")
    # A worker beats this often (real seconds); silent for three beats, it is `lost`.
    heartbeat_seconds: float = Field(5.0, gt=0, validation_alias="AMC_HEARTBEAT_SECONDS")
    # `amc serve`: /metrics without an admin token; browsers' origins allowed by CORS (none).
    metrics_public: bool = Field(False, validation_alias="AMC_METRICS_PUBLIC")
    cors_origins: str = Field("", validation_alias="AMC_CORS_ORIGINS")
    # Log lines of `amc worker` and `amc serve`: text, or one JSON object per line (logs.py).
    log_format: Literal["text", "json"] = Field("text", validation_alias="AMC_LOG_FORMAT")
    # Where result files go: a folder (a path or file:///PATH) or s3://BUCKET/PREFIX on the
    # store at AMC_S3_ENDPOINT_URL (AWS when unset); credentials from the usual AWS_* variables.
    results_url: str | None = Field(None, validation_alias="AMC_RESULTS_URL")
    s3_endpoint_url: str | None = Field(None, validation_alias="AMC_S3_ENDPOINT_URL")
    # `amc db prune` (and the worker, daily): result files and audit rows older than this.
    results_retention_days: float | None = Field(
        None, gt=0, validation_alias="AMC_RESULTS_RETENTION_DAYS"
    )
    audit_retention_days: float | None = Field(
        None, gt=0, validation_alias="AMC_AUDIT_RETENTION_DAYS"
    )

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError(
                "AMC_SECRET_KEY must be at least 32 characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        return value

    @model_validator(mode="after")
    def _real_mode_needs_credentials(self) -> Settings:
        if self.use_real_api:
            for name, value in (
                ("AMAZON_CLIENT_ID", self.client_id),
                ("AMAZON_CLIENT_SECRET", self.client_secret),
                ("FERNET_KEY", self.fernet_key),
            ):
                if not value:
                    raise ValueError(f"{name} is required when AMC_USE_REAL_API=true")
        return self

    @property
    def sandbox_state_dir(self) -> Path:
        return self.amc_home / "sandbox"

    @property
    def results_dir(self) -> Path:
        return self.amc_home / "results"

    @property
    def results_location(self) -> str:
        """AMC_RESULTS_URL, else the folder `AMC_HOME/results`."""
        return self.results_url or str(self.results_dir)


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning a validation failure into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        variable = _variable_for(field)
        message = str(first["msg"]).removeprefix("Value error, ")
        where = f"{variable}: " if variable and variable not in message else ""
        raise ConfigurationError(f"invalid setting {where}{message}", hint=SETTING_HINT) from None


def _variable_for(field: str) -> str:
    info = Settings.model_fields.get(field)
    if info is None:
        return field
    alias = info.validation_alias
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field.upper()
