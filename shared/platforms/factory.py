"""One place that turns a platform's configuration into its client, by the platform's kind.

A second kind of platform is one adapter module implementing `PlatformClient` and one
entry in `ADAPTERS`; intake and publishing both build their clients here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from shared.platforms.client import PlatformClient
from shared.platforms.config import PlatformConfig
from shared.platforms.http import HttpPlatformClient

ADAPTERS: dict[str, Callable[[PlatformConfig], PlatformClient]] = {
    "reference_http": HttpPlatformClient,
}


def platform_client(config: PlatformConfig) -> PlatformClient:
    """The client of one platform, made by the adapter of its kind."""
    return ADAPTERS[config.kind](config)


def platform_clients(configs: Iterable[PlatformConfig]) -> dict[str, PlatformClient]:
    """Every platform's client, by platform id."""
    return {config.id: platform_client(config) for config in configs}
