"""Tests of weather_data, current_weather and results_frame: the frame's shape and contract."""

from __future__ import annotations

import pandas as pd
import pytest

from testing.provider_server import ProviderServer
from weather import (
    FRAME_COLUMNS,
    current_weather,
    results_frame,
    weather_data,
)
from weather.errors import ConfigError, NotFoundError, RequestTimeout
from weather.models import Observation
from weather.providers import DemoProvider
from weather.providers.open_meteo_geocoder import clear_geocode_cache

EXPECTED_COLUMNS = ["city", "lat", "lon", "time", "temperature", "humidity", "wind_speed",
                    "status", "error", "provider", "raw"]


@pytest.fixture
def server(monkeypatch):
    clear_geocode_cache()
    with ProviderServer() as srv:
        for name in ("OPEN_METEO_BASE_URL", "GEOCODING_BASE_URL", "OPENWEATHER_BASE_URL"):
            monkeypatch.setenv(name, srv.url)
        for name in ("WEATHER_PROVIDER", "WEATHER_UNITS", "OPENWEATHER_API_KEY"):
            monkeypatch.delenv(name, raising=False)
        yield srv
    clear_geocode_cache()


def check_frame(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == EXPECTED_COLUMNS == list(FRAME_COLUMNS)
    for column in ("lat", "lon", "temperature", "humidity", "wind_speed"):
        assert frame[column].dtype == "float64", column
    assert isinstance(frame["time"].dtype, pd.DatetimeTZDtype)
    assert str(frame["time"].dt.tz) == "UTC"
    for column in ("city", "status", "error", "provider"):
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame["raw"].map(lambda v: isinstance(v, dict)).all()


def test_weather_data_open_meteo_from_the_environment(server):
    """Test the issue's example: two cities through open-meteo, with the base URL from env."""
    frame = weather_data(["San Francisco", "Fresno"], provider="open-meteo")
    check_frame(frame)
    assert list(frame["city"]) == ["San Francisco", "Fresno"]
    assert list(frame["status"]) == ["ok", "ok"] and list(frame["error"]) == ["", ""]
    assert frame["provider"].eq("open-meteo").all()
    assert frame.loc[0, "lat"] == pytest.approx(37.7749)
    assert frame["raw"][0]["timezone"] == "GMT"
    assert server.count("/v1/forecast") == 1
    # Imperial by default: °F within plausible bounds, and metric gives lower numbers.
    metric = weather_data(["San Francisco", "Fresno"], provider="open-meteo", units="metric")
    assert (frame["temperature"] > metric["temperature"]).all()


def test_weather_data_reads_units_and_provider_from_the_environment(server, monkeypatch):
    """Test that WEATHER_UNITS and WEATHER_PROVIDER are used when the arguments are None."""
    monkeypatch.setenv("WEATHER_PROVIDER", "openweather")
    monkeypatch.setenv("OPENWEATHER_API_KEY", "any-key")
    monkeypatch.setenv("WEATHER_UNITS", "metric")
    frame = weather_data("Fresno")
    check_frame(frame)
    assert frame.loc[0, "provider"] == "openweather"
    assert frame.loc[0, "temperature"] == frame.loc[0, "raw"]["main"]["temp"]


def test_weather_data_rejects_bad_units(server):
    """Test that unknown units are refused before any request."""
    with pytest.raises(ConfigError):
        weather_data(["Fresno"], provider="demo", units="kelvin")
    assert server.count() == 0


def test_failed_rows_keep_their_place_with_nan_values(server):
    """Test that a failed city keeps its row in order, with NaN values and NaT time."""
    frame = weather_data(["Fresno", "Atlantis", "San Diego"], provider="demo")
    check_frame(frame)
    assert list(frame["city"]) == ["Fresno", "Atlantis", "San Diego"]
    failed = frame.iloc[1]
    assert failed["status"] == "not found" and "Atlantis" in failed["error"]
    assert pd.isna(failed["time"]) and pd.isna(failed["temperature"]) and pd.isna(failed["lat"])
    assert failed["provider"] == "demo"


def test_current_weather_returns_objects_in_order(server):
    """Test that current_weather gives Observations (metric) and errors, in request order."""
    results = current_weather(["Fresno", "Atlantis"], provider=DemoProvider())
    assert isinstance(results[0], Observation) and isinstance(results[1], NotFoundError)


def test_results_frame_is_pure_and_converts():
    """Test results_frame on hand-made results: conversion and the error row."""
    obs = Observation("X", 1.0, 2.0, pd.Timestamp("2026-11-25T12:00Z").to_pydatetime(),
                      temperature_c=100.0, humidity_pct=50.0, wind_speed_ms=0.44704,
                      provider="demo", raw={"a": 1})
    error = RequestTimeout("no answer", city="Y")
    frame = results_frame(["X", "Y"], [obs, error], "imperial", provider="demo")
    check_frame(frame)
    assert frame.loc[0, "temperature"] == pytest.approx(212.0)
    assert frame.loc[0, "wind_speed"] == pytest.approx(1.0)
    assert list(frame["status"]) == ["ok", "timeout"]
    assert frame.loc[1, "error"] == "no answer"
    with pytest.raises(ValueError):
        results_frame(["X"], [], "metric")


def test_empty_request_gives_an_empty_frame_with_the_columns():
    """Test that no cities give no rows but the same columns and dtypes."""
    frame = weather_data([], provider="demo")
    assert frame.empty
    check_frame(frame)
