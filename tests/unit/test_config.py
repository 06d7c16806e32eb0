"""Settings: defaults, validation, and the one-line start-up error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import BotMode, ConfigError, load_settings

TOKEN = "123456:ABCDEFabcdef_-0123456789abcdefghij"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = load_settings(_env_file=None)
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.pixlpark_api_url == "https://api.pixlpark.com"
    assert settings.database_url == "sqlite:///data/bot.sqlite3"
    assert settings.http_port == 8080
    assert settings.bot_mode is BotMode.POLLING
    assert settings.default_language == "ru"
    assert settings.poll_interval == 120
    assert TOKEN not in repr(settings)


def test_missing_token_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="BOT_TOKEN"):
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [("HTTP_PORT", "99999"), ("BOT_MODE", "carrier-pigeon"), ("PUBLIC_URL", "example.com")],
)
def test_invalid_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings(_env_file=None)


def test_startup_with_missing_setting_prints_one_line(tmp_path: os.PathLike[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": os.getcwd()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    output = (proc.stdout + proc.stderr).strip()
    assert output == "error: setting BOT_TOKEN is required but not set"
