"""The explicit list of providers. Adding one: its module, one line here, its settings in the template."""

from __future__ import annotations

from functools import cache

from textstatus import config
from textstatus.errors import ConfigurationError, ProviderNotConfiguredError, UnknownProviderError
from textstatus.observability import logger
from textstatus.providers.base import ProviderAdapter
from textstatus.providers.comapi import ComapiAdapter
from textstatus.providers.govdelivery import GovdeliveryAdapter
from textstatus.providers.http import HttpSettings
from textstatus.providers.usajobs import UsajobsAdapter
from textstatus.providers.wunderkind import WunderkindAdapter

# An explicit dict, not a directory scan: nothing to discover at cold start, and mypy checks it.
_ADAPTERS: dict[str, type[ProviderAdapter]] = {
    adapter.name: adapter for adapter in (UsajobsAdapter, ComapiAdapter, GovdeliveryAdapter, WunderkindAdapter)
}

PROVIDER_NAMES: tuple[str, ...] = tuple(_ADAPTERS)


@cache
def adapter(name: str) -> ProviderAdapter:
    """The adapter of a provider, built once per cold start with its settings; UnknownProviderError
    for a provider this service does not know, ProviderNotConfiguredError for one whose settings
    (every secret included) this deployment does not have."""
    adapter_class = _ADAPTERS.get(name)
    if adapter_class is None:
        raise UnknownProviderError(f"unknown provider; expected one of: {', '.join(PROVIDER_NAMES)}")
    settings = config.settings()
    http = HttpSettings(
        connect_timeout=settings.http_connect_timeout_seconds,
        read_timeout=settings.http_read_timeout_seconds,
        pool_size=settings.poll_concurrency,
    )
    try:
        provider_settings = config.load(adapter_class.settings_model)
    except ConfigurationError as exc:
        logger.warning("provider not configured", extra={"provider": name, "detail": exc.message})
        raise ProviderNotConfiguredError(f"{name} is not configured in this deployment") from None
    return adapter_class.from_config(provider_settings, http)


def lists_recipients(name: str) -> bool:
    """Whether a provider's messages have recipient lists to read (known without its settings)."""
    adapter_class = _ADAPTERS.get(name)
    return adapter_class is not None and adapter_class.lists_recipients


def reset() -> None:
    adapter.cache_clear()
