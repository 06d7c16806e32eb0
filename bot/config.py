"""Settings read from the environment and an optional `.env` file."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BotMode(StrEnum):
    """How Telegram updates reach the bot."""

    POLLING = "polling"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    """Every setting of the bot; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    pixlpark_api_url: str = "https://api.pixlpark.com"
    database_url: str = "sqlite:///data/bot.sqlite3"
    secret_key: SecretStr | None = None
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = "http://localhost:8080"
    bot_mode: BotMode = BotMode.POLLING
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["kv", "json"] = "kv"
    default_language: Literal["ru", "en"] = "ru"
    default_timezone: str = "Europe/Moscow"
    poll_interval: float = Field(default=120.0, ge=0)
    pixlpark_timeout: float = Field(default=10.0, gt=0)
    telegram_rate: float = Field(default=25.0, gt=0)
    telegram_chat_interval: float = Field(default=1.0, ge=0)
    telegram_group_per_minute: int = Field(default=20, gt=0)
    outbox_max_attempts: int = Field(default=8, gt=0)
    outbox_retry_base: float = Field(default=1.0, gt=0)
    outbox_retry_max: float = Field(default=300.0, gt=0)
    webhook_max_body: int = Field(default=1024 * 1024, gt=0)
    webhook_body_timeout: float = Field(default=10.0, gt=0)
    telegram_webhook_secret: SecretStr | None = None
    alert_fetch_timeout: float = Field(default=5.0, gt=0)
    alert_fetch_cooldown: float = Field(default=15.0, gt=0)
    inbox_lease: float = Field(default=30.0, gt=0)
    processor_concurrency: int = Field(default=8, gt=0)
    recheck_delay: float = Field(default=60.0, ge=0)
    poll_max_pages: int = Field(default=5, gt=0)
    webhook_hint_after: float = Field(default=3600.0, ge=0)
    retention_days: float = Field(default=14.0, gt=0)
    shutdown_timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("telegram_api_url", "pixlpark_api_url", "public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value()
        if not token:
            return None
        if len(token) > 256 or re.fullmatch(r"[A-Za-z0-9_-]+", token) is None:
            raise ValueError("must be 1 to 256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        head, _, tail = token.partition(":")
        if not head.isdigit() or not tail:
            raise ValueError("does not look like a bot token (123456:ABC...)")
        return value


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it in one line."""


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        if first["type"] == "missing":
            raise ConfigError(f"setting {name} is required but not set") from None
        raise ConfigError(f"setting {name} is invalid: {first['msg']}") from None
