"""Settings: defaults, the variables of contracts.md, one-line errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from amc_manager.config import load_settings
from amc_manager.errors import ConfigurationError


def test_defaults_follow_contracts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in ("AMC_HOME", "AMC_USE_REAL_API", "AMC_USER", "FERNET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.amc_home == tmp_path / "xdg" / "amc-manager"
    assert settings.use_real_api is False
    assert settings.sandbox_state_dir == settings.amc_home / "sandbox"
    assert settings.time_scale == 1.0


def test_env_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMC_HOME", raising=False)
    (tmp_path / ".env").write_text(f"AMC_HOME={tmp_path / 'home'}\nAMC_TIME_SCALE=60\n")
    settings = load_settings()
    assert settings.amc_home == tmp_path / "home"
    assert settings.time_scale == 60


def test_real_mode_requires_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AMC_USE_REAL_API", "true")
    for name in ("AMAZON_CLIENT_ID", "AMAZON_CLIENT_SECRET", "FERNET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "AMAZON_CLIENT_ID is required when AMC_USE_REAL_API=true" in str(caught.value)
    assert caught.value.exit_code == 2


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AMC_TIME_SCALE", "fast")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "AMC_TIME_SCALE" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.hint is not None and ".env" in str(caught.value)  # what to do
