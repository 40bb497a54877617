"""Each provider's adapter, built from the test settings (TEST_ENV) with any of them overridden,
pointed at a simulator when one is given."""

from __future__ import annotations

from local.simulators.base import Simulator
from tests.conftest import TEST_ENV
from textstatus.providers.comapi import ComapiAdapter, ComapiSettings
from textstatus.providers.govdelivery import GovdeliveryAdapter, GovdeliverySettings
from textstatus.providers.http import HttpSettings
from textstatus.providers.usajobs import UsajobsAdapter, UsajobsSettings
from textstatus.providers.wunderkind import WunderkindAdapter, WunderkindSettings

HTTP = HttpSettings(connect_timeout=1, read_timeout=2, pool_size=4)


def provider_env(provider: str, sim: Simulator | None = None, **overrides: str) -> dict[str, str]:
    """The provider's settings from TEST_ENV, its base URL the simulator's, then `overrides`."""
    prefix = f"{provider.upper()}_"
    env = {name: value for name, value in TEST_ENV.items() if name.startswith(prefix)}
    if sim is not None:
        env[f"{prefix}BASE_URL"] = sim.url
    return env | overrides


def usajobs_adapter(sim: Simulator | None = None, http: HttpSettings = HTTP, **env: str) -> UsajobsAdapter:
    return UsajobsAdapter(UsajobsSettings.from_env(provider_env("usajobs", sim, **env)), http)


def comapi_adapter(sim: Simulator | None = None, http: HttpSettings = HTTP, **env: str) -> ComapiAdapter:
    return ComapiAdapter(ComapiSettings.from_env(provider_env("comapi", sim, **env)), http)


def govdelivery_adapter(sim: Simulator | None = None, http: HttpSettings = HTTP, **env: str) -> GovdeliveryAdapter:
    return GovdeliveryAdapter(GovdeliverySettings.from_env(provider_env("govdelivery", sim, **env)), http)


def wunderkind_adapter(sim: Simulator | None = None, http: HttpSettings = HTTP, **env: str) -> WunderkindAdapter:
    return WunderkindAdapter(WunderkindSettings.from_env(provider_env("wunderkind", sim, **env)), http)
