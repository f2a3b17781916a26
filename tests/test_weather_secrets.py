"""Tests that the API key never leaks: not in errors, reprs, tracebacks or log records."""

from __future__ import annotations

import logging
import traceback

import pytest

from testing.provider_server import FAULTS, ProviderServer
from weather import ClientConfig, errors, get_provider, weather_data
from weather.cities import CALIFORNIA_CITIES
from weather.http import HttpClient
from weather.providers import OpenWeatherProvider

KEY = "SECRET-KEY-1234567890"
CITIES = [*CALIFORNIA_CITIES, "Atlantis", "Tromsø"]

#: Short enough to keep the timeout tests quick, long enough that a normal answer on a
#: busy machine never trips it.
READ_TIMEOUT_S = 1.0


def leaks(error: BaseException) -> list[str]:
    """Every text an error can show, with its chained causes and traceback."""
    texts = [str(error), repr(error), repr(error.args), repr(vars(error)),
             "".join(traceback.format_exception(error))]
    for linked in (error.__cause__, error.__context__):
        if linked is not None:
            texts += leaks(linked)
    return [t for t in texts if KEY in t]


def test_the_key_appears_in_no_error_and_no_log_record(caplog):
    """Test every fault, for one city and for all: no message or record holds the key."""
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "weather", "weather.http"):
        caplog.set_level(logging.DEBUG, logger=name)
    seen: list[BaseException] = []
    with ProviderServer(valid_keys={KEY}) as server:
        http = HttpClient(read_timeout_s=READ_TIMEOUT_S, connect_timeout_s=2, backoff_s=0.01)
        provider = OpenWeatherProvider(KEY, base_url=server.url, http=http)
        for fault in FAULTS:
            for city in ("Fresno", None):
                server.clear_faults()
                server.set_fault(fault, city=city)
                try:
                    results = provider.current(CITIES)
                except errors.WeatherError as error:
                    seen.append(error)
                else:
                    seen += [r for r in results if isinstance(r, errors.WeatherError)]
        wrong = OpenWeatherProvider("WRONG-" + KEY, base_url=server.url, http=http)
        server.clear_faults()
        with pytest.raises(errors.AuthError) as caught:
            wrong.current(["Fresno"])
        seen.append(caught.value)
        url = server.url
    # Nobody listens any more: connection refused on every retry.
    seen += OpenWeatherProvider(KEY, base_url=url, http=http).current(["Fresno"])
    kinds = {type(e) for e in seen}
    assert {errors.RequestTimeout, errors.UnreachableError, errors.ServerError,
            errors.ParseError, errors.NotFoundError, errors.BadRequestError,
            errors.AuthError, errors.RateLimitError} <= kinds
    for error in seen:
        assert not leaks(error), error
    assert repr(provider).count(KEY) == 0
    records = caplog.records
    urllib3_urls = [r for r in records if r.name.startswith("urllib3") and "appid" in
                    r.getMessage()]
    assert urllib3_urls, "urllib3 should have logged request URLs at DEBUG"
    assert all("[REDACTED]" in r.getMessage() for r in urllib3_urls)
    for record in records:
        assert KEY not in record.getMessage()
        assert KEY not in str(record.args) and KEY not in str(record.msg)
    assert KEY not in caplog.text


def test_weather_data_errors_and_frames_hold_no_key(monkeypatch):
    """Test that the frame's error column and a raised AuthError never show the key."""
    with ProviderServer(valid_keys={KEY}) as server:
        monkeypatch.setenv("OPENWEATHER_BASE_URL", server.url)
        monkeypatch.setenv("OPENWEATHER_API_KEY", KEY)
        monkeypatch.delenv("WEATHER_PROVIDER", raising=False)
        server.set_fault("malformed", city="Fresno")
        frame = weather_data(["Fresno", "Atlantis", "San Diego"], provider="openweather")
        assert not frame.drop(columns="raw").astype(str).apply(
            lambda col: col.str.contains(KEY)).any().any()
        server.clear_faults()
        server.valid_keys = {"another"}
        config = ClientConfig.from_env()
        provider = get_provider(config=config)
        with pytest.raises(errors.AuthError) as caught:
            provider.current(["Fresno"])
        assert not leaks(caught.value)
