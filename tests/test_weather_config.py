"""Tests of ClientConfig.from_env and of the provider registry's choices and messages."""

from __future__ import annotations

import pytest

from weather.config import PROVIDER_NAMES, ClientConfig
from weather.errors import ConfigError, UnknownProviderError
from weather.providers import (
    PROVIDERS,
    DemoProvider,
    OpenMeteoProvider,
    OpenWeatherProvider,
    get_provider,
)

KEY = "SECRET-KEY-1234567890"


def test_defaults_without_any_setting():
    """Test that an empty environment gives the demo provider, imperial, public URLs."""
    config = ClientConfig.from_env({})
    assert config.provider == "demo" and config.api_key is None and config.units == "imperial"
    assert config.openweather_base_url == "https://api.openweathermap.org"
    assert config.open_meteo_base_url == "https://api.open-meteo.com"
    assert config.geocoding_base_url == "https://geocoding-api.open-meteo.com"


def test_a_key_alone_selects_openweather_and_stays_out_of_repr():
    """Test that OPENWEATHER_API_KEY implies openweather, and repr never shows the key."""
    config = ClientConfig.from_env({"OPENWEATHER_API_KEY": f" {KEY} "})
    assert config.provider == "openweather" and config.api_key == KEY
    assert KEY not in repr(config) and KEY not in str(config)


def test_settings_are_read_and_normalised():
    """Test that every setting is read, trimmed, and URLs lose their trailing slash."""
    config = ClientConfig.from_env({
        "WEATHER_PROVIDER": " Open_Meteo ", "WEATHER_UNITS": "METRIC",
        "OPENWEATHER_BASE_URL": "http://127.0.0.1:9/", "OPEN_METEO_BASE_URL": "http://a:1/",
        "GEOCODING_BASE_URL": "https://geo.example/prefix/", "OPENWEATHER_API_KEY": "",
    })
    assert (config.provider, config.units) == ("open-meteo", "metric")
    assert config.openweather_base_url == "http://127.0.0.1:9"
    assert config.open_meteo_base_url == "http://a:1"
    assert config.geocoding_base_url == "https://geo.example/prefix"


def test_unknown_provider_lists_the_valid_names():
    """Test that a bad WEATHER_PROVIDER names the setting and every valid provider."""
    with pytest.raises(UnknownProviderError) as caught:
        ClientConfig.from_env({"WEATHER_PROVIDER": "accuweather"})
    assert caught.value.setting == "WEATHER_PROVIDER"
    for name in PROVIDER_NAMES:
        assert name in str(caught.value)


@pytest.mark.parametrize(("setting", "value", "listed"), [
    ("WEATHER_UNITS", "kelvin", "imperial, metric"),
    ("OPENWEATHER_BASE_URL", "api.openweathermap.org", "http"),
    ("OPEN_METEO_BASE_URL", "ftp://x", "http"),
    ("GEOCODING_BASE_URL", "http://host/?q=1", "http"),
])
def test_bad_values_name_their_setting(setting, value, listed):
    """Test that a bad unit or URL is a ConfigError naming the setting and what is accepted."""
    with pytest.raises(ConfigError) as caught:
        ClientConfig.from_env({setting: value})
    assert caught.value.setting == setting
    assert listed in str(caught.value) and setting in str(caught.value)


def test_openweather_without_a_key_names_the_variable():
    """Test that choosing openweather without a key says which variable to set."""
    with pytest.raises(ConfigError) as caught:
        ClientConfig.from_env({"WEATHER_PROVIDER": "openweather"})
    assert caught.value.setting == "OPENWEATHER_API_KEY"
    with pytest.raises(ConfigError, match="OPENWEATHER_API_KEY"):
        get_provider("openweather", ClientConfig())


def test_registry_builds_each_provider_by_name():
    """Test that every registered name (and alias) builds its provider class."""
    assert tuple(PROVIDERS) == PROVIDER_NAMES
    config = ClientConfig(provider="openweather", api_key=KEY,
                          openweather_base_url="http://127.0.0.1:9")
    assert isinstance(get_provider(config=config), OpenWeatherProvider)
    assert get_provider(config=config).base_url == "http://127.0.0.1:9"
    assert isinstance(get_provider("open-meteo", config), OpenMeteoProvider)
    assert isinstance(get_provider("openmeteo", config), OpenMeteoProvider)
    assert isinstance(get_provider("DEMO", config), DemoProvider)


def test_registry_error_lists_valid_names():
    """Test that an unknown name raises UnknownProviderError listing the valid names."""
    with pytest.raises(UnknownProviderError) as caught:
        get_provider("weatherstack", ClientConfig())
    assert caught.value.valid == list(PROVIDER_NAMES)
    assert "openweather, open-meteo, demo" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_an_explicit_name_wins_over_a_bad_environment(monkeypatch):
    """Test that get_provider("demo") works even when WEATHER_PROVIDER is invalid."""
    monkeypatch.setenv("WEATHER_PROVIDER", "nonsense")
    assert isinstance(get_provider("demo"), DemoProvider)
