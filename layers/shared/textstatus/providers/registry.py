"""The explicit list of providers. Adding one: its module, a loader and one line here, its settings in the template."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from textstatus import config
from textstatus.errors import ConfigurationError, ProviderNotConfiguredError, UnknownProviderError
from textstatus.observability import logger
from textstatus.providers.base import ProviderAdapter
from textstatus.providers.http import HttpSettings

# Each adapter's module is imported when its provider is first needed: a cold request about one
# provider does not build the payload models of the other three.


def _usajobs() -> type[ProviderAdapter]:
    from textstatus.providers.usajobs import UsajobsAdapter

    return UsajobsAdapter


def _comapi() -> type[ProviderAdapter]:
    from textstatus.providers.comapi import ComapiAdapter

    return ComapiAdapter


def _govdelivery() -> type[ProviderAdapter]:
    from textstatus.providers.govdelivery import GovdeliveryAdapter

    return GovdeliveryAdapter


def _wunderkind() -> type[ProviderAdapter]:
    from textstatus.providers.wunderkind import WunderkindAdapter

    return WunderkindAdapter


# An explicit dict, not a directory scan: nothing to discover at cold start, and mypy checks it.
# Each key is its adapter's `name` (tests/providers/test_all_providers.py).
_ADAPTERS: dict[str, Callable[[], type[ProviderAdapter]]] = {
    "usajobs": _usajobs,
    "comapi": _comapi,
    "govdelivery": _govdelivery,
    "wunderkind": _wunderkind,
}

PROVIDER_NAMES: tuple[str, ...] = tuple(_ADAPTERS)


def adapter_class(name: str) -> type[ProviderAdapter]:
    """The adapter class of a provider; UnknownProviderError for one this service does not know."""
    load = _ADAPTERS.get(name)
    if load is None:
        raise UnknownProviderError(f"unknown provider; expected one of: {', '.join(PROVIDER_NAMES)}")
    return load()


@cache
def adapter(name: str) -> ProviderAdapter:
    """The adapter of a provider, built once per cold start with its settings; UnknownProviderError
    for a provider this service does not know, ProviderNotConfiguredError for one whose settings
    (every secret included) this deployment does not have."""
    provider_class = adapter_class(name)
    settings = config.settings()
    http = HttpSettings(
        connect_timeout=settings.http_connect_timeout_seconds,
        read_timeout=settings.http_read_timeout_seconds,
        pool_size=settings.poll_concurrency,
    )
    try:
        provider_settings = config.load(provider_class.settings_model)
    except ConfigurationError as exc:
        logger.warning("provider not configured", extra={"provider": name, "detail": exc.message})
        raise ProviderNotConfiguredError(f"{name} is not configured in this deployment") from None
    return provider_class.from_config(provider_settings, http)


def lists_recipients(name: str) -> bool:
    """Whether a provider's messages have recipient lists to read (known without its settings)."""
    load = _ADAPTERS.get(name)
    return load is not None and load().lists_recipients


def reset() -> None:
    adapter.cache_clear()
