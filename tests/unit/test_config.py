"""Settings read from the environment (config.EnvSettings): names in any case, an empty value
unset, a secret from its value or its SSM parameter's name, refusals that name the setting and
never show its value."""

from __future__ import annotations

import pytest

from textstatus.config import DEFAULT_SECRET_CACHE_SECONDS, Settings
from textstatus.errors import ConfigurationError
from textstatus.providers.comapi import ComapiSettings

COMAPI = {"COMAPI_API_SPACE_ID": "space-1", "COMAPI_TOKEN": "token-value-8e1f", "COMAPI_WEBHOOK_SECRET": "hook-2b7c"}


def test_settings_are_read_in_any_case_and_an_empty_value_is_unset() -> None:
    settings = Settings.from_env({"retention_days": "31", "Poll_Concurrency": "4", "TABLE_NAME": ""})
    assert (settings.retention_days, settings.poll_concurrency) == (31, 4)
    assert settings.table_name == "textstatus-local"  # the default, as if unset


def test_a_secret_comes_from_its_value_or_from_its_parameter() -> None:
    settings = ComapiSettings.from_env(
        {**COMAPI, "COMAPI_WEBHOOK_SECRET": "", "COMAPI_WEBHOOK_SECRET_PARAMETER": "/textstatus/comapi/webhook-secret"}
    )
    assert settings.token.get_secret_value() == "token-value-8e1f"
    assert settings.token.parameter is None
    assert settings.webhook_secret.get_secret_value() == ""
    assert settings.webhook_secret.parameter == "/textstatus/comapi/webhook-secret"
    assert settings.webhook_secret.setting == "COMAPI_WEBHOOK_SECRET"
    assert settings.webhook_secret.max_age_seconds == DEFAULT_SECRET_CACHE_SECONDS
    assert ComapiSettings.from_env({**COMAPI, "SECRET_CACHE_SECONDS": "60"}).token.max_age_seconds == 60


def test_a_secret_with_neither_is_missing_and_named_without_the_other_values() -> None:
    with pytest.raises(ConfigurationError) as refused:
        ComapiSettings.from_env({**COMAPI, "COMAPI_TOKEN": ""})
    assert refused.value.message == "invalid settings: COMAPI_TOKEN"
    assert "hook-2b7c" not in str(refused.value)


def test_a_refused_value_is_named_never_shown() -> None:
    with pytest.raises(ConfigurationError) as refused:
        ComapiSettings.from_env({**COMAPI, "COMAPI_API_SPACE_ID": "not a space id", "COMAPI_BASE_URL": "ftp://x"})
    assert refused.value.message == "invalid settings: COMAPI_API_SPACE_ID, COMAPI_BASE_URL"
    assert "not a space id" not in str(refused.value)


def test_the_checks_across_settings_still_refuse() -> None:
    with pytest.raises(ConfigurationError, match="POLL_MAX_BACKOFF_SECONDS must be at least"):
        Settings.from_env({"POLL_INITIAL_DELAY_SECONDS": "600", "POLL_MAX_BACKOFF_SECONDS": "60"})


def test_secrets_never_show_in_a_repr() -> None:
    settings = ComapiSettings.from_env(COMAPI)
    assert "token-value-8e1f" not in repr(settings)
    assert "hook-2b7c" not in repr(settings)
