"""Settings, validated once per cold start from the environment; secrets resolved lazily.

This is the only module that reads `os.environ`. A secret setting `NAME` is taken from the
environment variable `NAME` when it is set (the local stack, tests), and otherwise from the
SSM SecureString parameter named by `NAME_PARAMETER` (AWS), read through Powertools
Parameters with a cache age so that rotated secrets are picked up without a redeploy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from textstatus.errors import ConfigurationError


class Secret:
    """Where a secret comes from. Its value never appears in a repr, a dump, a log line or an error."""

    __slots__ = ("_value", "env_name", "max_age_seconds", "parameter")

    def __init__(
        self, env_name: str, value: str | None = None, parameter: str | None = None, max_age_seconds: int = 300
    ) -> None:
        self.env_name = env_name
        self._value = value
        self.parameter = parameter
        self.max_age_seconds = max_age_seconds

    def __repr__(self) -> str:
        origin = f"ssm:{self.parameter}" if self.parameter and not self._value else "env" if self._value else "unset"
        return f"Secret({self.env_name}, from {origin})"

    @property
    def configured(self) -> bool:
        return bool(self._value or self.parameter)

    def reveal(self) -> str:
        if self._value:
            return self._value
        if self.parameter:
            from aws_lambda_powertools.utilities import parameters  # only when a secret is read

            resolved = parameters.get_parameter(self.parameter, decrypt=True, max_age=self.max_age_seconds)
            if not isinstance(resolved, str) or not resolved:
                raise ConfigurationError(f"SSM parameter for {self.env_name} is empty")
            return resolved
        raise ConfigurationError(f"{self.env_name} is not configured (set it or {self.env_name}_PARAMETER)")


class EnvSettings(BaseModel):
    """A group of settings read from environment variables named by the field aliases."""

    model_config = ConfigDict(extra="ignore", frozen=True, arbitrary_types_allowed=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _collect_secrets(cls, env: Any) -> Any:
        if not isinstance(env, Mapping):
            return env
        data = {key: value for key, value in env.items() if value != ""}
        max_age = int(env.get("SECRET_CACHE_SECONDS") or 300)
        for name, info in cls.model_fields.items():
            alias = info.alias or name
            if info.annotation is Secret and not isinstance(data.get(alias), Secret):
                data[alias] = Secret(
                    env_name=alias,
                    value=env.get(alias) or None,
                    parameter=env.get(f"{alias}_PARAMETER") or None,
                    max_age_seconds=max_age,
                )
        return data

    @model_validator(mode="after")
    def _secrets_configured(self) -> Self:
        # A provider whose credentials are not configured is not configured: said at start
        # (the provider answers 404 ProviderNotConfigured), not at its first call.
        missing = [
            secret.env_name for secret in self.__dict__.values() if isinstance(secret, Secret) and not secret.configured
        ]
        if missing:
            raise ValueError(f"not configured: {', '.join(sorted(missing))}")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        try:
            return cls.model_validate(env)
        except ValidationError as exc:
            # Name the settings that are wrong, never their values.
            names = ", ".join(sorted({str(err["loc"][0]) if err["loc"] else err["msg"] for err in exc.errors()}))
            raise ConfigurationError(f"invalid settings: {names}") from None


class Settings(EnvSettings):
    """The service-wide settings."""

    table_name: str = Field("textstatus-local", alias="TABLE_NAME", min_length=3, max_length=255)
    retention_days: int = Field(30, alias="RETENTION_DAYS", ge=1, le=3650)
    poll_initial_delay_seconds: int = Field(60, alias="POLL_INITIAL_DELAY_SECONDS", ge=1, le=86_400)
    poll_max_backoff_seconds: int = Field(3600, alias="POLL_MAX_BACKOFF_SECONDS", ge=1, le=86_400)
    tracking_deadline_hours: float = Field(72, alias="TRACKING_DEADLINE_HOURS", gt=0, le=24 * 90)
    poll_batch_size: int = Field(500, alias="POLL_BATCH_SIZE", ge=1, le=10_000)
    poll_concurrency: int = Field(8, alias="POLL_CONCURRENCY", ge=1, le=64)
    http_connect_timeout_seconds: float = Field(3.05, alias="HTTP_CONNECT_TIMEOUT_SECONDS", gt=0, le=30)
    http_read_timeout_seconds: float = Field(5, alias="HTTP_READ_TIMEOUT_SECONDS", gt=0, le=60)

    @model_validator(mode="after")
    def _backoff_bounds(self) -> Self:
        if self.poll_max_backoff_seconds < self.poll_initial_delay_seconds:
            raise ValueError("POLL_MAX_BACKOFF_SECONDS must be at least POLL_INITIAL_DELAY_SECONDS")
        return self

    @model_validator(mode="after")
    def _retention_covers_tracking(self) -> Self:
        # A message still being tracked must not be deleted by TTL: everything is kept at
        # least as long as the longest a message can be tracked (the deadline; a provider's
        # own retention window, such as Wunderkind's 7 days, only shortens it).
        if self.retention_days * 24 < self.tracking_deadline_hours:
            raise ValueError("RETENTION_DAYS must cover TRACKING_DEADLINE_HOURS")
        return self

    @property
    def tracking_window(self) -> timedelta:
        return timedelta(hours=self.tracking_deadline_hours)


@cache
def load[SettingsT: EnvSettings](model: type[SettingsT]) -> SettingsT:
    """The settings of `model`, validated once per cold start (per process)."""
    return model.from_env(os.environ)


def settings() -> Settings:
    """The service-wide settings. Refused settings are a deployment that cannot work: logged
    at error level for the person on call, and every request answers 500 until they are fixed.
    (A provider's own settings missing only leave that provider unconfigured.)"""
    try:
        loaded: Settings = load(Settings)
    except ConfigurationError as exc:
        from textstatus.observability import logger

        logger.error("settings refused", extra={"detail": exc.message})
        raise
    return loaded


def reset() -> None:
    """Forget every cached setting (tests, and the local stack after changing the environment)."""
    load.cache_clear()
