"""Shared fixtures: isolated settings, offline headless Chromium, the fake provider server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from testing.served import BlockedRequests, chromium_path, launch_chromium, record_outside_attempts

if TYPE_CHECKING:
    from testing.provider_server import ProviderServer

# Settings the app and the benchmark baseline read from the environment.
ENV_PREFIXES = ("WEATHER_", "OPENWEATHER_", "OPEN_METEO_", "GEOCODING_", "ARTICLE_")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ui: served app driven in headless Chromium")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without the developer's weather settings (keys, URLs, cities)."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    """End every test with no shared feed and no cached place left for the next one."""
    yield
    from dashboards.server import shared
    from weather.providers.open_meteo_geocoder import clear_geocode_cache

    shared.reset()
    clear_geocode_cache()


@pytest.fixture
def demo_settings() -> Any:
    """Settings of a process polling the demo provider every 10 minutes, history in memory;
    ``shared.shared_feed(demo_settings)`` starts its feed (stopped after the test)."""
    from dashboards.config import AppConfig

    return AppConfig.from_env({"WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:",
                               "WEATHER_INTERVAL": "600"})


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator[Any]:
    """Headless Chromium for one test module; a missing Chromium fails, it is part of the suite.

    Per module, not per run: Playwright's synchronous API holds an asyncio loop as the main
    thread's running loop while it is open, and the component tests of other modules must
    see none (there, as in a script, a running loop means a notebook's kernel).
    """
    if chromium_path() is None:
        pytest.fail(
            "Chromium is required for the ui tests: install it (Debian: apt-get install "
            "chromium) or point the CHROMIUM environment variable at it "
            f"(CHROMIUM={os.environ.get('CHROMIUM', 'unset')})",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def blocked_requests() -> BlockedRequests:
    """The outside requests `browser_context`'s pages tried during this test (all failed)."""
    return BlockedRequests()


@pytest.fixture
def browser_context(playwright_browser: Any, blocked_requests: BlockedRequests) -> Iterator[Any]:
    """A fresh browser context; its pages reach this machine only (`launch_chromium`)."""
    context = playwright_browser.new_context()
    # Clicks and look-ups wait for a slow machine instead of failing after Playwright's 30 s.
    context.set_default_timeout(120_000)
    record_outside_attempts(context, blocked_requests)
    yield context
    context.close()


@pytest.fixture
def provider_server() -> Iterator[ProviderServer]:
    """The fake weather providers, running on 127.0.0.1 for this test."""
    from testing.provider_server import ProviderServer

    with ProviderServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Any]:
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole run (skips if not installed)."""
    pytest.importorskip("psycopg", reason="pip install '.[postgres]' (psycopg[binary])")
    from testing.postgres import INSTALL_HINT, PostgresCluster, server_bin

    if server_bin() is None:
        pytest.skip(INSTALL_HINT)
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
def own_cluster() -> Iterator[Any]:
    """A cluster of its own, for tests that crash and restart the server."""
    pytest.importorskip("psycopg", reason="pip install '.[postgres]' (psycopg[binary])")
    from testing.postgres import INSTALL_HINT, PostgresCluster, server_bin

    if server_bin() is None:
        pytest.skip(INSTALL_HINT)
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: Any) -> str:
    """The URL of an empty database of its own for this test."""
    from testing.postgres import unique_name

    return postgres_cluster.create_database(unique_name("weather"))
