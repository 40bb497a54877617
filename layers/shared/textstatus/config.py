"""Settings, validated once per cold start from the environment; secrets resolved lazily.

This is the only module that reads `os.environ`. A secret setting `NAME` is taken from the
environment variable `NAME` when it is set (the local stack, tests), and otherwise from the SSM
SecureString parameter named by `NAME_PARAMETER` (AWS), read through Powertools Parameters with a
cache age (`SECRET_CACHE_SECONDS`) so that rotated secrets are picked up without a redeploy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, SecretStr, ValidationError, model_validator
from pydantic_core import core_schema

from textstatus.correlation import MetadataKey
from textstatus.errors import ConfigurationError

DEFAULT_SECRET_CACHE_SECONDS = 300


class Secret(SecretStr):
    """A secret setting: its value (`SecretStr`, never shown) or the SSM parameter that holds it.

    Its value never appears in a repr, a dump, a log line or an error: only its setting's name
    and where it comes from.
    """

    def __init__(
        self,
        value: str = "",
        *,
        setting: str = "secret",
        parameter: str | None = None,
        max_age_seconds: int = DEFAULT_SECRET_CACHE_SECONDS,
    ) -> None:
        super().__init__(value)
        self.setting = setting
        self.parameter = parameter or None
        self.max_age_seconds = max_age_seconds

    def __repr__(self) -> str:
        has_value = bool(self.get_secret_value())
        origin = "env" if has_value else f"ssm:{self.parameter}" if self.parameter else "unset"
        return f"Secret({self.setting}, from {origin})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        # Built by `_env_values` (which knows the setting's name and parameter); plain text is
        # accepted too (a value given in code).
        return core_schema.no_info_plain_validator_function(
            lambda value: value if isinstance(value, Secret) else Secret(str(value)),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    @property
    def configured(self) -> bool:
        return bool(self.get_secret_value() or self.parameter)

    def reveal(self) -> str:
        return resolve_secret(self)


def resolve_secret(secret: Secret) -> str:
    """The value of a secret: its own, or its SSM parameter's through Powertools Parameters.

    Every failure (not configured, an empty parameter, SSM refusing or failing in any way) is a
    ConfigurationError naming the setting, never its value.
    """
    value = secret.get_secret_value()
    if value:
        return value
    if not secret.parameter:
        raise ConfigurationError(f"{secret.setting} is not configured (set it or {secret.setting}_PARAMETER)")
    try:
        resolved = _ssm().get(secret.parameter, decrypt=True, max_age=secret.max_age_seconds)
    except Exception as exc:  # noqa: BLE001 - any SSM failure is a setting we cannot read
        raise ConfigurationError(f"SSM parameter for {secret.setting} cannot be read ({type(exc).__name__})") from None
    if not isinstance(resolved, str) or not resolved:
        raise ConfigurationError(f"SSM parameter for {secret.setting} is empty")
    return resolved


@cache
def _ssm() -> Any:
    """Powertools Parameters' SSM provider (its cache of values), on a client of boto3's default
    session, which the DynamoDB client shares: the provider `parameters.get_parameter` makes for
    itself starts a boto3 session of its own, about 120 ms of the cold request that reads a secret."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import SSMProvider  # only when a secret is read

    return SSMProvider(boto3_client=boto3.client("ssm"))


class EnvSettings(BaseModel):
    """A group of settings read from environment variables: `<env_prefix><FIELD NAME>` (any case;
    an empty value counts as unset). A secret field (`Secret`) is read from `NAME`, or else names
    its SSM parameter in `NAME_PARAMETER`; with neither it is missing.

    Plain pydantic over the environment: pydantic-settings cost a cold start 40 ms of imports
    (its CLI, dotenv and cloud sources, asyncio) for what these few lines do.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)
    env_prefix: ClassVar[str] = ""

    def __init_subclass__(cls, *, env_prefix: str = "", **kwargs: Any) -> None:
        # `class ComapiSettings(ProviderSettings, env_prefix="COMAPI_")`; a subclass without one
        # keeps its parent's.
        super().__init_subclass__(**kwargs)
        if env_prefix:
            cls.env_prefix = env_prefix

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """The settings from `env` alone; ConfigurationError naming the refused settings."""
        try:
            return cls.model_validate(_env_values(cls, env))
        except ValidationError as exc:
            # Name the settings that are wrong, never their values.
            names = {setting_name(cls, str(err["loc"][0])) if err["loc"] else err["msg"] for err in exc.errors()}
            raise ConfigurationError(f"invalid settings: {', '.join(sorted(names))}") from None


def _env_values(model: type[EnvSettings], env: Mapping[str, str]) -> dict[str, Any]:
    """The raw value of each field of `model` that `env` sets (strings, and each secret as a `Secret`)."""
    given = {key.lower(): value for key, value in env.items() if value != ""}
    max_age = given.get("secret_cache_seconds")
    values: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        name = setting_name(model, field_name)
        value = given.get(name.lower())
        if field.annotation is Secret:
            parameter = given.get(f"{name}_parameter".lower())
            if value is None and parameter is None:
                continue  # not configured: the field is missing
            values[field_name] = Secret(
                value or "",
                setting=name,
                parameter=parameter,
                max_age_seconds=int(max_age) if max_age and max_age.isdigit() else DEFAULT_SECRET_CACHE_SECONDS,
            )
        elif value is not None:
            values[field_name] = value
    return values


def setting_name(model: type[EnvSettings], field_name: str) -> str:
    """The environment variable a field is read from (upper case, with the model's prefix)."""
    return f"{model.env_prefix}{field_name}".upper()


class ProviderSettings(EnvSettings):
    """A provider's settings. Every field without a default, secrets included (a value or its
    parameter's name), must be present for the provider to be configured."""

    base_url: str = Field(pattern=r"^https?://")

    def secrets(self) -> list[Secret]:
        return [value for value in self.__dict__.values() if isinstance(value, Secret)]


class Settings(EnvSettings):
    """The service-wide settings."""

    table_name: str = Field("textstatus-local", min_length=3, max_length=255)
    retention_days: int = Field(30, ge=1, le=3650)
    poll_initial_delay_seconds: int = Field(60, ge=1, le=86_400)
    poll_max_backoff_seconds: int = Field(3600, ge=1, le=86_400)
    tracking_deadline_hours: float = Field(72, gt=0, le=24 * 90)
    poll_batch_size: int = Field(500, ge=1, le=10_000)
    poll_concurrency: int = Field(8, ge=1, le=64)
    http_connect_timeout_seconds: float = Field(3.05, gt=0, le=30)
    http_read_timeout_seconds: float = Field(5, gt=0, le=60)
    # Webhook targets on loopback (http://127.0.0.1:9000/): the local stack only, never on AWS.
    webhooks_allow_loopback: bool = False
    # The entry of a message's correlation data (Wunderkind's callbackData, Comapi's metadata) that
    # gives a message without a reference its reference (e.g. `orderId`); unset: none does.
    reference_key: MetadataKey | None = None

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


def prime() -> None:
    """Before a SnapStart snapshot: the settings read (a published version's environment never
    changes) and the SSM client made, its model loaded into boto3's session. Never a secret: secrets
    are read after the restore."""
    settings()
    _ssm()


def reset() -> None:
    """Forget every cached setting and secret (tests, the local stack after changing the environment,
    a SnapStart restore)."""
    load.cache_clear()
    _ssm.cache_clear()
