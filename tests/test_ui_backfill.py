"""A backfilled history in the served app: a new install shows the past at once, and
WEATHER_RETENTION_DAYS trims it when the server starts."""

from __future__ import annotations

import sqlite3

import pytest

from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, ServedApp, open_app_page, temperature_points
from tests.test_cli_history import run_cli

pytestmark = pytest.mark.ui

DAYS = 3
CITIES = 7


def env_for(server, db_path, **extra) -> dict[str, str]:
    # A long interval: the page's points are the backfill plus at most a poll or two.
    return {"WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": server.url,
            "GEOCODING_BASE_URL": server.url, "WEATHER_DB": str(db_path),
            "WEATHER_INTERVAL": "3600", **extra}


@pytest.fixture
def backfilled(tmp_path):
    """A history file holding 3 days of 7 cities from `weather-dashboard backfill`."""
    with ProviderServer() as server:
        db_path = tmp_path / "history.sqlite3"
        result = run_cli("backfill", "--days", str(DAYS), env=env_for(server, db_path))
        assert result.returncode == 0, result.stderr
        yield server, db_path


def test_a_new_page_shows_the_backfilled_days(backfilled, browser_context):
    """Test that after a backfill, the first page holds every backfilled reading."""
    server, db_path = backfilled
    with ServedApp(REPO_ROOT / "app.py", env=env_for(server, db_path)) as app:
        page = open_app_page(browser_context, app.url, timeout_s=90)
        page.wait_until(lambda: temperature_points(page.page) >= CITIES * DAYS * 24,
                        timeout_s=120, message="the backfilled readings on the plot")
        # The backfill plus, at most, the server's own first poll of each city.
        assert temperature_points(page.page) <= CITIES * DAYS * 24 + CITIES


def test_retention_trims_a_backfilled_history_when_the_server_starts(backfilled,
                                                                     browser_context):
    """Test that WEATHER_RETENTION_DAYS=1 leaves one day on disk and on the page."""
    server, db_path = backfilled
    env = env_for(server, db_path, WEATHER_RETENTION_DAYS="1")
    with ServedApp(REPO_ROOT / "app.py", env=env) as app:
        page = open_app_page(browser_context, app.url, timeout_s=90)
        page.wait_until(lambda: temperature_points(page.page) > 0, timeout_s=120,
                        message="a drawn plot")
        with sqlite3.connect(db_path) as db:
            oldest_ms = db.execute("SELECT MIN(time_ms) FROM observations").fetchone()[0]
        assert oldest_ms >= (server.clock() - 86_400 - 60) * 1000
        assert temperature_points(page.page) <= CITIES * 24 + CITIES
