"""The Real Time tab's download in the served app: a click in Chromium saves the viewer's rows."""

from __future__ import annotations

import sqlite3
import time
from urllib.parse import quote

import pandas as pd
import pytest

from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, ServedApp, open_app_page, temperature_points
from tests.test_cli_history import run_cli

pytestmark = pytest.mark.ui

HOSTILE = ("<img src=x onerror=alert(1)>", "../../etc/passwd")
SERVED = ("Fresno", "San Diego", *HOSTILE)
CHOSEN = ("Fresno", *HOSTILE)
WINDOW_S = 24 * 3600
METRIC_HEADER = ["city", "time", "lat", "lon", "temperature_c", "humidity_pct", "wind_speed_ms",
                 "provider"]


@pytest.fixture
def served(tmp_path):
    """The app on a history of two backfilled days of four cities, two of them hostile names."""
    with ProviderServer() as server:
        server.add_city(HOSTILE[0], 36.0, -119.0)
        server.add_city(HOSTILE[1], 37.0, -120.0)
        db_path = tmp_path / "history.sqlite3"
        # A long interval: the history is the backfill plus the server's first poll.
        env = {"WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": server.url,
               "GEOCODING_BASE_URL": server.url, "WEATHER_DB": str(db_path),
               "WEATHER_INTERVAL": "3600", "WEATHER_CITIES": ";".join(SERVED)}
        result = run_cli("backfill", "--days", "2", env=env)
        assert result.returncode == 0, result.stderr
        with ServedApp(REPO_ROOT / "app.py", env=env) as app:
            yield app, db_path


def stored_rows(db_path, cities, since_ms: float) -> dict[tuple[str, int], tuple[float, float]]:
    """(temperature °C, wind m/s) by (city, time in ms) of the stored rows of ``cities`` at
    or after ``since_ms``."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT city, time_ms, temperature, wind_speed FROM observations "
                          "WHERE time_ms >= ?", (since_ms,)).fetchall()
    return {(city, t): (temp, wind) for city, t, temp, wind in rows if city in cities}


def test_a_click_saves_the_viewers_cities_window_and_units(served, browser_context, tmp_path):
    """Test that clicking Download data after choosing metric units and the last 24 hours saves
    a CSV of exactly the stored rows of the address's cities in that window, in °C and m/s,
    under a file name with no markup and no path."""
    app, db_path = served
    cities = quote(";".join(CHOSEN), safe="")
    page = open_app_page(browser_context, f"{app.url}?cities={cities}", timeout_s=90)
    p = page.page
    page.wait_until(lambda: temperature_points(p) >= len(CHOSEN) * 20, timeout_s=120,
                    message="the backfilled day on the plot")
    p.get_by_role("button", name="°C · m/s").click()
    p.get_by_role("button", name="24 h", exact=True).click()
    button = p.locator("button", has_text="Download")
    # The choices reach the server before the click: a click right after them raced them.
    page.wait_until(lambda: button.is_enabled(), timeout_s=60, message="an enabled button")
    before_ms = time.time() * 1000
    with p.expect_download(timeout=120_000) as info:
        button.click()
    download = info.value
    after_ms = time.time() * 1000
    saved = tmp_path / "saved.csv"
    download.save_as(saved)

    name = download.suggested_filename
    assert name.startswith("weather_Fresno_img-src-x-onerror-alert-1_etc-passwd_")
    assert name.endswith("-now_metric.csv")
    assert not set(name) & set("<>/\\=\"' ")

    rows = pd.read_csv(saved, keep_default_na=False)
    assert list(rows.columns) == METRIC_HEADER
    assert set(rows["city"]) == set(CHOSEN)
    got = {(c, int(pd.Timestamp(t).value // 1_000_000)): (temp, wind)
           for c, t, temp, wind in zip(rows["city"], rows["time"], rows["temperature_c"],
                                       rows["wind_speed_ms"], strict=True)}
    assert len(got) == len(rows) > len(CHOSEN)  # backfilled hours, not only the first poll
    # The window starts between the click and the file's arrival: every stored row newer
    # than both starts is in, none older than both; metric values are the stored ones.
    assert set(stored_rows(db_path, CHOSEN, after_ms - WINDOW_S * 1000)) <= set(got)
    assert got.items() <= stored_rows(db_path, CHOSEN, before_ms - WINDOW_S * 1000).items()
    # ... and there were older rows, and another city's rows, to leave out.
    start_ms = before_ms - WINDOW_S * 1000
    assert len(stored_rows(db_path, CHOSEN, 0)) > len(stored_rows(db_path, CHOSEN, start_ms))
    assert stored_rows(db_path, {"San Diego"}, start_ms)
    assert page.errors == []
