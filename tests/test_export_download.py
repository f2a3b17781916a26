"""The Real Time tab's export without a browser: the rows, units, format and file name."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import panel as pn
import pytest

from dashboards.server import export
from dashboards.server.feed import WeatherFeed
from dashboards.server.history import History, observations_frame
from dashboards.views.realtime.export import ExportDownload
from dashboards.views.realtime.tab import WINDOWS_S, StreamingTab
from dashboards.views.settings import ViewerSettings
from weather.models import Observation
from weather.providers.demo import DemoProvider
from weather.units import c_to_f, ms_to_mph

HOSTILE = ("<img src=x onerror=alert(1)>", "../../etc/passwd")
CITIES = ("Fresno", "San Diego", *HOSTILE)
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLLS = 120  # one a minute: two hours
#: Fewer than stored: an export reads the store, not the rows kept in memory.
MEMORY_ROWS = 50


def poll(minute: int) -> pd.DataFrame:
    """One poll of every city at ``minute``; each city's values differ."""
    return observations_frame([
        Observation(city=c, lat=float(i), lon=-float(i), time=T0 + timedelta(minutes=minute),
                    temperature_c=10.0 + i + minute / 100, humidity_pct=40.0 + i,
                    wind_speed_ms=2.0 + i, provider="test")
        for i, c in enumerate(CITIES)
    ])


@pytest.fixture
def history(tmp_path):
    history = History(str(tmp_path / "history.sqlite3"), max_rows=MEMORY_ROWS, provider="test")
    for minute in range(POLLS):
        history.add(poll(minute))
    yield history
    history.close()


def at_minute(minute: float) -> float:
    """Seconds since the epoch ``minute`` minutes after T0."""
    return (T0 + timedelta(minutes=minute)).timestamp()


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), keep_default_na=False)


def test_the_file_holds_the_chosen_cities_of_the_window_in_metric(history):
    """Test that a metric export holds every stored row of the chosen cities in the window,
    read from the store beyond the rows kept in memory, and no other row."""
    view = ExportDownload(history=history, settings=ViewerSettings(units="metric"),
                          cities=["San Diego", HOSTILE[0]], window_s=3600.0)
    name, data = view.make_file(now_s=at_minute(POLLS))  # the last hour: minutes 60..119
    rows = read_csv(data)
    assert list(rows.columns) == ["city", "time", "lat", "lon", "temperature_c", "humidity_pct",
                                  "wind_speed_ms", "provider"]
    assert sorted(set(rows["city"])) == sorted(["San Diego", HOSTILE[0]])
    assert len(rows) == 2 * 60 > MEMORY_ROWS
    times = pd.to_datetime(rows["time"], utc=True)
    assert times.min() == T0 + timedelta(minutes=60)
    assert times.max() == T0 + timedelta(minutes=POLLS - 1)
    hostile = rows[rows["city"] == HOSTILE[0]].reset_index(drop=True)
    index = CITIES.index(HOSTILE[0])
    assert hostile["temperature_c"].tolist() == pytest.approx(
        [10.0 + index + m / 100 for m in range(60, POLLS)])
    assert name.endswith("_metric.csv")


def test_imperial_viewers_get_fahrenheit_and_mph(history):
    """Test that a viewer in imperial units gets °F and mph, named in the columns."""
    view = ExportDownload(history=history, settings=ViewerSettings(units="imperial"),
                          cities=["Fresno"], window_s=None)
    name, data = view.make_file(now_s=at_minute(POLLS))
    rows = read_csv(data)
    assert len(rows) == POLLS
    assert {"temperature_f", "wind_speed_mph"} <= set(rows.columns)
    assert "temperature_c" not in rows.columns
    assert rows["temperature_f"].tolist() == pytest.approx(
        [c_to_f(10.0 + m / 100) for m in range(POLLS)])
    assert rows["wind_speed_mph"].tolist() == pytest.approx([ms_to_mph(2.0)] * POLLS)
    assert name == "weather_Fresno_all_imperial.csv"


def test_the_units_are_read_when_the_file_is_made(history):
    """Test that switching units after the button was built changes the next file."""
    settings = ViewerSettings(units="metric")
    view = ExportDownload(history=history, settings=settings, cities=["Fresno"])
    settings.units = "imperial"
    name, data = view.make_file(now_s=at_minute(POLLS))
    assert "temperature_f" in read_csv(data).columns
    assert name.endswith("_imperial.csv")


def test_the_file_name_is_safe_for_hostile_city_names(history):
    """Test that names made of markup or a path give a file name of letters, digits, dashes,
    underscores and one dot: no markup, no path separator, no dot file."""
    view = ExportDownload(history=history, settings=ViewerSettings(units="metric"),
                          cities=list(HOSTILE), window_s=3600.0)
    name, data = view.make_file(now_s=at_minute(POLLS))
    assert sorted(set(read_csv(data)["city"])) == sorted(HOSTILE)
    assert name == "weather_img-src-x-onerror-alert-1_etc-passwd_2026-11-25T1300Z-now_metric.csv"
    for bad in ("<", ">", "/", "\\", "..", "="):
        assert bad not in name


def test_the_click_makes_the_file_and_names_the_download(history):
    """Test that the button's callback (the click) returns the rows and sets the file name,
    and that building the button read nothing."""
    view = ExportDownload(history=history, settings=ViewerSettings(units="metric"),
                          cities=["Fresno", "San Diego"], window_s=None)
    assert view.download.data is None  # nothing made at page build
    made = asyncio.run(view._on_click())
    assert len(read_csv(made.getvalue())) == 2 * POLLS
    assert view.download.filename == "weather_Fresno_San-Diego_all_metric.csv"
    assert not view.download.loading


def test_no_city_chosen_disables_the_button(history):
    """Test that with no city chosen the button cannot be clicked, and comes back with one."""
    view = ExportDownload(history=history, settings=ViewerSettings(), cities=[])
    assert view.download.disabled
    view.cities = ["Fresno"]
    assert not view.download.disabled


@pytest.mark.skipif(not export.parquet_available(), reason=export.PARQUET_INSTALL)
def test_parquet_round_trip(history):
    """Test that the Parquet choice gives a Parquet file of the same rows and columns."""
    view = ExportDownload(history=history, settings=ViewerSettings(units="imperial"),
                          cities=["Fresno", HOSTILE[1]], window_s=1800.0)
    assert view.format_choice.visible
    view.format_choice.value = "parquet"  # the viewer picks Parquet
    name, data = view.make_file(now_s=at_minute(POLLS))
    assert name.endswith("_imperial.parquet")
    rows = pd.read_parquet(io.BytesIO(data))
    assert len(rows) == 2 * 30
    assert sorted(set(rows["city"])) == sorted(["Fresno", HOSTILE[1]])
    fresno = rows[rows["city"] == "Fresno"]
    assert fresno["temperature_f"].tolist() == pytest.approx(
        [c_to_f(10.0 + m / 100) for m in range(POLLS - 30, POLLS)])
    assert str(rows["time"].dt.tz) == "UTC"


def test_the_tab_keeps_the_export_in_step_with_its_cities_and_window(history):
    """Test that the Real Time tab's export follows the viewer's cities and window."""
    feed = WeatherFeed(DemoProvider(), CITIES, history)
    tab = StreamingTab(feed=feed, settings=ViewerSettings(units="metric"))
    try:
        assert tab.export.download in tab.controls.select(pn.widgets.FileDownload)
        assert tab.export.cities == list(CITIES)
        assert tab.export.window_s is None
        tab.cities = ["San Diego"]
        tab.window = "6 h"
        assert tab.export.cities == ["San Diego"]
        assert tab.export.window_s == WINDOWS_S["6 h"]
        name, data = tab.export.make_file(now_s=at_minute(POLLS))
        assert set(read_csv(data)["city"]) == {"San Diego"}
        assert name.startswith("weather_San-Diego_")
    finally:
        tab.close()
