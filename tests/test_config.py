"""Settings: every bad value is refused with one line naming the setting and what it accepts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dashboards.config import DEFAULT_CITIES, AppConfig, default_db_path
from testing.served import REPO_ROOT
from weather.errors import ConfigError


def test_defaults_need_no_setting_at_all():
    """Test that an empty environment gives demo data, the article's cities and 30 s polls."""
    config = AppConfig.from_env({"HOME": "/home/someone"})
    assert config.provider == "demo" and config.units == "imperial"
    assert config.cities == DEFAULT_CITIES and config.interval_s == 30.0
    assert config.tiles == "EsriImagery" and config.forecast_interval_s == 3600.0
    assert config.db_path == default_db_path({"HOME": "/home/someone"})
    assert config.db_path.endswith(os.path.join("weather-dashboard", "history.sqlite3"))


def test_a_key_alone_selects_openweather():
    """Test that setting only OPENWEATHER_API_KEY switches to live OpenWeather data."""
    config = AppConfig.from_env({"OPENWEATHER_API_KEY": "abc123"})
    assert config.provider == "openweather"
    assert "abc123" not in repr(config)


def test_forecast_interval_is_read_in_seconds():
    """Test that WEATHER_FORECAST_INTERVAL sets the forecast poll, apart from WEATHER_INTERVAL."""
    config = AppConfig.from_env({"WEATHER_FORECAST_INTERVAL": " 900 ", "WEATHER_INTERVAL": "5"})
    assert (config.forecast_interval_s, config.interval_s) == (900.0, 5.0)


def test_cities_are_split_trimmed_and_deduplicated():
    """Test that WEATHER_CITIES is read as a ';'-separated list."""
    config = AppConfig.from_env({"WEATHER_CITIES": " Paris ; Tokyo;;Paris; São Paulo "})
    assert config.cities == ("Paris", "Tokyo", "São Paulo")


@pytest.mark.parametrize(
    ("setting", "value", "accepted"),
    [
        ("WEATHER_INTERVAL", "0", "greater than 0"),
        ("WEATHER_INTERVAL", "-5", "greater than 0"),
        ("WEATHER_INTERVAL", "soon", "greater than 0"),
        ("WEATHER_INTERVAL", "nan", "greater than 0"),
        ("WEATHER_INTERVAL", "inf", "greater than 0"),
        ("WEATHER_FORECAST_INTERVAL", "0", "greater than 0"),
        ("WEATHER_FORECAST_INTERVAL", "hourly", "greater than 0"),
        ("WEATHER_FORECAST_INTERVAL", "-3600", "greater than 0"),
        ("WEATHER_CITIES", "", "separated by ';'"),
        ("WEATHER_CITIES", " ; ;", "separated by ';'"),
        ("WEATHER_TILES", "satellite", "EsriImagery, OSM, CartoLight, none"),
        ("WEATHER_PROVIDER", "metoffice", "openweather"),
        ("WEATHER_UNITS", "kelvin", "imperial, metric"),
        ("OPENWEATHER_BASE_URL", "ftp://example", "http"),
    ],
)
def test_bad_value_names_the_setting_and_what_it_accepts(setting, value, accepted):
    """Test that each invalid setting raises a ConfigError naming it and the valid values."""
    with pytest.raises(ConfigError) as info:
        AppConfig.from_env({setting: value})
    message = str(info.value)
    assert info.value.setting == setting and message.startswith(setting)
    assert accepted in message and "\n" not in message


def test_openweather_without_a_key_names_the_key_setting():
    """Test that choosing OpenWeather without a key says which setting is missing."""
    with pytest.raises(ConfigError, match="OPENWEATHER_API_KEY"):
        AppConfig.from_env({"WEATHER_PROVIDER": "openweather"})


def test_command_refuses_to_start_with_one_readable_line():
    """Test that `weather-dashboard` with a bad setting exits with one line and no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEATHER_")}
    env["WEATHER_INTERVAL"] = "-1"
    result = subprocess.run(
        [sys.executable, "-m", "dashboards.cli", "--port", "0"], env=env, cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "weather-dashboard: WEATHER_INTERVAL: must be a number of seconds greater than 0, "
        "got '-1'"
    ]
    assert "Traceback" not in result.stderr + result.stdout
