"""Tests of every provider's forecast against the fake server: queries, values and faults."""

from __future__ import annotations

import itertools
import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from testing.provider_server import ProviderServer
from weather import FORECAST_COLUMNS, errors, forecast_data
from weather.cache import CachedProvider
from weather.cities import CALIFORNIA_CITIES, lookup
from weather.http import HttpClient
from weather.models import Forecast
from weather.providers import DemoProvider, OpenMeteoProvider, OpenWeatherProvider
from weather.providers.demo import simulate
from weather.providers.open_meteo_geocoder import clear_geocode_cache

KEY = "SECRET-KEY-1234567890"
CITIES = list(CALIFORNIA_CITIES)
OW_PATH, OM_PATH = "/data/2.5/forecast", "/v1/forecast"
#: Short enough to keep failing tests quick, long enough for a busy machine's normal answer.
READ_TIMEOUT_S = 2.0


@pytest.fixture
def server():
    clear_geocode_cache()
    with ProviderServer(valid_keys={KEY}) as srv:
        yield srv
    clear_geocode_cache()


def http() -> HttpClient:
    return HttpClient(read_timeout_s=READ_TIMEOUT_S, connect_timeout_s=2, backoff_s=0.01)


def open_meteo(server) -> OpenMeteoProvider:
    return OpenMeteoProvider(base_url=server.url, geocoding_base_url=server.url, http=http())


def openweather(server, key=KEY) -> OpenWeatherProvider:
    return OpenWeatherProvider(key, base_url=server.url, http=http())


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


# -- Open-Meteo ---------------------------------------------------------------------------------
def test_open_meteo_asks_every_city_in_one_request_with_the_documented_query(server):
    """Test that seven cities cost one /v1/forecast request carrying all their coordinates."""
    results = open_meteo(server).forecast(CITIES)
    assert [r.city for r in results] == CITIES
    assert all(isinstance(r, Forecast) for r in results)
    assert server.count() == 1
    (record,) = server.requests
    assert record.path == OM_PATH
    query = record.query
    assert set(query) == {"latitude", "longitude", "hourly", "forecast_days", "wind_speed_unit",
                          "timeformat"}
    assert query["hourly"] == "temperature_2m,relative_humidity_2m,wind_speed_10m"
    assert (query["forecast_days"], query["wind_speed_unit"], query["timeformat"]) == \
        ("3", "ms", "unixtime")
    assert query["latitude"].split(",") == [f"{lookup(c).lat:.4f}" for c in CITIES]
    assert query["longitude"].split(",") == [f"{lookup(c).lon:.4f}" for c in CITIES]


def test_open_meteo_forecast_is_hourly_from_this_hour_for_48_hours(server):
    """Test that the points are the next 48 hours, hourly, with the server's values."""
    before = datetime.now(UTC)
    (forecast,) = open_meteo(server).forecast(["Fresno"])
    after = datetime.now(UTC)
    times = [p.time for p in forecast.points]
    assert times[0] in (hour_floor(before), hour_floor(after))
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(times))
    assert before + timedelta(hours=47) < times[-1] <= after + timedelta(hours=48)
    place = lookup("Fresno")
    for point in (forecast.points[0], forecast.points[-1]):
        temperature_c, humidity, wind_ms = simulate(place, int(point.time.timestamp()))
        assert point.temperature_c == round(temperature_c, 1)
        assert point.humidity_pct == round(humidity)
        assert point.wind_speed_ms == round(wind_ms, 1)


def test_open_meteo_hours_set_the_days_asked_and_the_points_kept(server):
    """Test that 5 hours ask two days and keep the 6 hours from this one on."""
    (forecast,) = open_meteo(server).forecast(["Fresno"], hours=5)
    assert server.requests[-1].query["forecast_days"] == "2"
    assert len(forecast.points) in (5, 6)  # 6 unless the hour turned during the call


def test_open_meteo_unknown_city_is_its_own_error_and_the_rest_arrive(server):
    """Test that a name the geocoder lacks is NotFoundError; the others still come in one go."""
    results = open_meteo(server).forecast(["Fresno", "Atlantis", "Tromsø"])
    assert isinstance(results[0], Forecast) and isinstance(results[2], Forecast)
    assert isinstance(results[1], errors.NotFoundError) and results[1].city == "Atlantis"
    assert server.count(OM_PATH) == 1


def test_open_meteo_429_raises_rate_limit_with_retry_after(server):
    """Test that a 429 on the forecast raises RateLimitError with Retry-After's seconds."""
    server.set_fault("429", retry_after_s=7, endpoint="forecast")
    with pytest.raises(errors.RateLimitError) as caught:
        open_meteo(server).forecast(CITIES)
    assert caught.value.retry_after_s == 7


@pytest.mark.parametrize(("fault", "error"), [
    ("malformed", errors.ParseError), ("503", errors.ServerError),
    ("404", errors.NotFoundError), ("400", errors.BadRequestError),
])
def test_open_meteo_whole_answer_faults_fail_every_city_alike(server, fault, error):
    """Test that a broken answer for the batch becomes that error for each city."""
    server.set_fault(fault, endpoint="forecast")
    results = open_meteo(server).forecast(CITIES[:3])
    assert [type(r) for r in results] == [error] * 3
    assert [r.city for r in results] == CITIES[:3]


@pytest.mark.parametrize("fault", ["missing_field", "wrong_type"])
def test_open_meteo_one_spoilt_location_spoils_only_that_city(server, fault):
    """Test that a bad hourly array in one location is that city's ParseError only."""
    server.set_fault(fault, city="Fresno", endpoint="forecast")
    results = open_meteo(server).forecast(["San Diego", "Fresno", "Sacramento"])
    assert isinstance(results[1], errors.ParseError) and results[1].city == "Fresno"
    assert isinstance(results[0], Forecast) and isinstance(results[2], Forecast)


def test_open_meteo_server_refuses_bad_hourly_queries(server):
    """Test that the fake server answers a bad variable or forecast_days as Open-Meteo does."""
    client = http()
    base = {"latitude": "1", "longitude": "2"}
    with pytest.raises(errors.BadRequestError, match="for key hourly"):
        client.get_json(f"{server.url}{OM_PATH}", {**base, "hourly": "temperature_3m"},
                        service="Open-Meteo")
    with pytest.raises(errors.BadRequestError, match="0 to 16"):
        client.get_json(f"{server.url}{OM_PATH}",
                        {**base, "hourly": "temperature_2m", "forecast_days": "17"},
                        service="Open-Meteo")
    body = client.get_json(f"{server.url}{OM_PATH}", {**base, "hourly": "temperature_2m"},
                           service="Open-Meteo")
    assert len(body["hourly"]["time"]) == 7 * 24 == len(body["hourly"]["temperature_2m"])
    assert body["hourly_units"] == {"time": "iso8601", "temperature_2m": "°C"}
    assert body["hourly"]["time"][0].endswith("T00:00")


# -- OpenWeather --------------------------------------------------------------------------------
def test_openweather_asks_each_city_concurrently_with_the_documented_query(server):
    """Test that seven cities are seven concurrent /data/2.5/forecast requests, one per city."""
    server.latency_s = 0.3
    results = openweather(server).forecast(CITIES)
    assert [r.city for r in results] == CITIES
    assert all(isinstance(r, Forecast) for r in results)
    assert server.count(OW_PATH) == len(CITIES) == server.count()
    assert server.max_in_flight > 1
    asked = sorted(r.query["q"] for r in server.requests)
    assert asked == sorted(CITIES)
    for record in server.requests:
        assert sorted(record.pairs) == [("appid", KEY), ("cnt", "17"), ("q", record.query["q"]),
                                        ("units", "metric")]


def test_openweather_forecast_is_three_hourly_for_48_hours(server):
    """Test that the steps are 3 hours apart, within 48 h, with the server's metric values."""
    before = datetime.now(UTC)
    (forecast,) = openweather(server).forecast(["Fresno"])
    after = datetime.now(UTC)
    times = [p.time for p in forecast.points]
    assert len(times) in (15, 16)
    assert all(t.hour % 3 == 0 and t.minute == 0 for t in times)
    assert all(b - a == timedelta(hours=3) for a, b in itertools.pairwise(times))
    assert before < times[0] <= after + timedelta(hours=3)
    assert times[-1] <= after + timedelta(hours=48)
    temperature_c, humidity, wind_ms = simulate(lookup("Fresno"), int(times[0].timestamp()))
    point = forecast.points[0]
    assert (point.temperature_c, point.humidity_pct, point.wind_speed_ms) == (
        round(temperature_c, 2), round(humidity), round(wind_ms, 2))
    assert (forecast.lat, forecast.lon) == (round(lookup("Fresno").lat, 4),
                                            round(lookup("Fresno").lon, 4))


def test_openweather_rejected_key_raises_and_never_shows_the_key(server):
    """Test that a 401 on the forecast raises AuthError, the key nowhere in its message."""
    with pytest.raises(errors.AuthError) as caught:
        openweather(server, key="WRONG-KEY-0987654321").forecast(CITIES)
    assert "WRONG-KEY-0987654321" not in str(caught.value)


def test_openweather_429_raises_rate_limit_with_retry_after(server):
    """Test that a 429 on the forecast endpoint raises RateLimitError with retry_after_s."""
    server.set_fault("429", city="Fresno", retry_after_s=42, endpoint="openweather_forecast")
    with pytest.raises(errors.RateLimitError) as caught:
        openweather(server).forecast(CITIES)
    assert caught.value.retry_after_s == 42


@pytest.mark.parametrize(("fault", "error"), [
    ("404", errors.NotFoundError), ("malformed", errors.ParseError),
    ("wrong_type", errors.ParseError), ("missing_field", errors.ParseError),
    ("503", errors.ServerError),
])
def test_openweather_one_city_failing_is_that_citys_error(server, fault, error):
    """Test that a fault for one city is that city's error; the others arrive."""
    server.set_fault(fault, city="Fresno", endpoint="openweather_forecast")
    results = openweather(server).forecast(["San Diego", "Fresno", "Sacramento"])
    assert isinstance(results[1], error) and results[1].city == "Fresno"
    assert isinstance(results[0], Forecast) and isinstance(results[2], Forecast)


def test_openweather_unknown_city_is_not_found(server):
    """Test that a city the server does not know answers 404 "city not found" per city."""
    results = openweather(server).forecast(["Atlantis", "Fresno"])
    assert isinstance(results[0], errors.NotFoundError)
    assert isinstance(results[1], Forecast)


def test_openweather_forecast_faults_leave_current_weather_alone(server):
    """Test that a fault set on the forecast endpoint does not touch current weather."""
    server.set_fault("503", endpoint="openweather_forecast")
    provider = openweather(server)
    assert all(isinstance(r, errors.ServerError) for r in provider.forecast(CITIES[:2]))
    assert all(not isinstance(r, errors.WeatherError) for r in provider.current(CITIES[:2]))


def test_openweather_server_caps_cnt_at_forty_steps(server):
    """Test that the fake server gives 40 steps by default and never more."""
    client = http()
    for cnt, steps in ((None, 40), ("5", 5), ("99", 40)):
        params = {"q": "Fresno", "appid": KEY, **({"cnt": cnt} if cnt else {})}
        body = client.get_json(f"{server.url}{OW_PATH}", params, service="OpenWeather")
        assert (body["cod"], body["cnt"], len(body["list"])) == ("200", steps, steps)


# -- demo ---------------------------------------------------------------------------------------
def test_demo_forecast_starts_at_the_present_and_runs_on_hourly():
    """Test that the demo forecast's first point is the current observation, then each hour."""
    now = 1_796_170_000.0
    provider = DemoProvider(clock=lambda: now)
    (observation,) = provider.current(["Fresno"])
    (forecast,) = provider.forecast(["Fresno"], hours=48)
    first = forecast.points[0]
    assert first.time == observation.time
    assert (first.temperature_c, first.humidity_pct, first.wind_speed_ms) == (
        observation.temperature_c, observation.humidity_pct, observation.wind_speed_ms)
    times = [p.time for p in forecast.points[1:]]
    assert all(t.minute == 0 and t.second == 0 for t in times) and len(times) == 48
    assert times[-1] - first.time <= timedelta(hours=48)
    # Smooth: no hour-to-hour jump bigger than the daily cycle allows.
    temps = [p.temperature_c for p in forecast.points]
    assert max(abs(b - a) for a, b in itertools.pairwise(temps)) < 4


def test_demo_forecast_later_present_walks_along_the_forecast():
    """Test that an hour later the present equals what was forecast for that hour."""
    now = [1_796_170_000.0]
    provider = DemoProvider(clock=lambda: now[0])
    (forecast,) = provider.forecast(["Tokyo"])
    later = forecast.points[3]
    now[0] = later.time.timestamp()
    (observation,) = provider.current(["Tokyo"])
    assert observation.temperature_c == later.temperature_c


def test_demo_forecast_of_an_unknown_city_is_not_found():
    """Test that the demo provider answers a city outside its table with NotFoundError."""
    results = DemoProvider().forecast(["Atlantis", "Paris"])
    assert isinstance(results[0], errors.NotFoundError)
    assert isinstance(results[1], Forecast)


def test_cached_provider_passes_forecasts_through():
    """Test that the Refresh cache in front of a provider does not hide its forecast."""
    cached = CachedProvider(DemoProvider(clock=lambda: 1_796_170_000.0))
    (forecast,) = cached.forecast(["Paris"], hours=3)
    assert isinstance(forecast, Forecast) and len(forecast.points) == 4


# -- forecast_data ------------------------------------------------------------------------------
def test_forecast_data_is_one_frame_in_the_units_asked(server):
    """Test that forecast_data gives FORECAST_COLUMNS, a row per hour, units converted."""
    provider = open_meteo(server)
    started = datetime.now(UTC)
    metric = forecast_data(["Fresno", "Atlantis", "San Diego"], provider=provider,
                           units="metric")
    imperial = forecast_data(["Fresno", "Atlantis", "San Diego"], provider=provider,
                             units="imperial")
    assert tuple(metric.columns) == FORECAST_COLUMNS
    assert list(dict.fromkeys(metric["city"])) == ["Fresno", "Atlantis", "San Diego"]
    ok = metric[metric["status"] == "ok"]
    assert len(ok) == 2 * len(ok[ok["city"] == "Fresno"]) >= 2 * 48
    assert str(metric["time"].dtype) == str(metric["fetched_at"].dtype) == "datetime64[ns, UTC]"
    assert (metric["fetched_at"] >= started).all() and metric["fetched_at"].nunique() == 1
    failed = metric[metric["city"] == "Atlantis"]
    assert len(failed) == 1 and failed["status"].item() == "not found"
    assert "Atlantis" in failed["error"].item() and failed["time"].isna().item()
    assert math.isnan(failed["temperature"].item())
    fahrenheit = imperial.loc[ok.index, "temperature"].to_numpy()
    assert abs(fahrenheit - (ok["temperature"].to_numpy() * 9 / 5 + 32)).max() < 1e-9
    assert (imperial["provider"] == "open-meteo").all()


def test_forecast_data_by_name_uses_the_demo_provider():
    """Test that provider="demo" works offline, and hours limits the rows."""
    frame = forecast_data("Paris", provider="demo", hours=6)
    assert (frame["status"] == "ok").all() and len(frame) in (6, 7)
    assert frame["time"].is_monotonic_increasing
    assert frame["time"].iloc[-1] - frame["time"].iloc[0] <= timedelta(hours=6)
    assert abs(frame["time"].iloc[0].timestamp() - time.time()) < 60
