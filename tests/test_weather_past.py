"""Tests of past observations: Open-Meteo's ``past_days`` against the fake server, the demo
simulation, OpenWeather's refusal, and the pure parser of hourly arrays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from testing.provider_server import ProviderServer
from weather import errors
from weather.cities import CALIFORNIA_CITIES, CITIES, City
from weather.http import HttpClient
from weather.models import Observation
from weather.providers import DemoProvider, OpenMeteoProvider, OpenWeatherProvider
from weather.providers.demo import simulate
from weather.providers.open_meteo_geocoder import clear_geocode_cache
from weather.providers.open_meteo_past import HOURLY_PAST, parse_past_hourly

FORECAST = "/v1/forecast"
CITIES_7 = list(CALIFORNIA_CITIES)
FRESNO = CITIES["Fresno"]


@pytest.fixture
def server():
    clear_geocode_cache()
    with ProviderServer() as srv:
        yield srv
    clear_geocode_cache()


def make_provider(server):
    http = HttpClient(read_timeout_s=30, connect_timeout_s=5, backoff_s=0.01)
    return OpenMeteoProvider(base_url=server.url, geocoding_base_url=server.url, http=http)


def midnight(t: float) -> int:
    return int(t // 86_400 * 86_400)


# -- Open-Meteo against the fake server --------------------------------------------------------
def test_past_days_is_one_request_for_all_cities_with_the_documented_query(server):
    """Test that 3 days of 7 cities cost one request asking hourly past, no forecast."""
    observations = make_provider(server).past(CITIES_7, 3)
    assert server.count(FORECAST) == 1 and server.count() == 1
    query = server.requests[0].query
    assert query["hourly"] == "temperature_2m,relative_humidity_2m,wind_speed_10m"
    assert (query["past_days"], query["forecast_days"]) == ("3", "0")
    assert (query["wind_speed_unit"], query["timeformat"]) == ("ms", "unixtime")
    assert "current" not in query
    assert len(query["latitude"].split(",")) == 7
    assert all(isinstance(o, Observation) for o in observations)
    # The three whole days before today, hour by hour, for every city.
    assert len(observations) == 7 * 3 * 24
    assert {o.city for o in observations} == set(CITIES_7)
    today = midnight(server.clock())
    times = sorted({o.time.timestamp() for o in observations})
    assert times[0] == today - 3 * 86_400 and times[-1] == today - 3600
    assert all(o.time.tzinfo is not None and o.provider == "open-meteo" for o in observations)


def test_past_values_are_the_servers_metric_values(server):
    """Test that each hour's values are the server's simulation in °C, % and m/s."""
    (first, *_) = make_provider(server).past(["Fresno"], 1)
    t = int(first.time.timestamp())
    temperature_c, humidity, wind_ms = simulate(FRESNO, t)
    assert first.temperature_c == pytest.approx(round(temperature_c, 1))
    assert first.humidity_pct == round(humidity)
    assert first.wind_speed_ms == pytest.approx(round(wind_ms, 1))
    assert (first.lat, first.lon) == (FRESNO.lat, FRESNO.lon)


def test_hours_at_or_after_now_are_dropped(server):
    """Test that hours the answer holds from now on (forecasts) never become observations."""
    # The server's day is two days ahead of the client's now: its last day of "past" hours
    # is partly in the client's future.
    now_s = datetime(2026, 3, 10, 15, 30, tzinfo=UTC).timestamp()
    server.clock = lambda: now_s + 2 * 86_400
    observations = make_provider(server).past(["Fresno"], 3, now_s=now_s)
    times = [o.time.timestamp() for o in observations]
    assert max(times) == midnight(now_s) + 15 * 3600  # 15:00, the last hour before 15:30
    assert all(t < now_s for t in times)
    assert min(times) == midnight(now_s) - 86_400  # 00:00 of the first served day


def test_null_values_are_skipped_not_zero(server):
    """Test that an hour with a null in any variable is left out; its neighbours are kept."""
    today = midnight(server.clock())
    gap = today - 5 * 3600
    server.hourly_nulls = {(gap, "relative_humidity_2m"), (today - 3600, "temperature_2m")}
    observations = make_provider(server).past(["Fresno", "Sacramento"], 1)
    fresno = [o.time.timestamp() for o in observations if o.city == "Fresno"]
    assert len(fresno) == 22
    assert gap not in fresno and today - 3600 not in fresno and gap - 3600 in fresno
    assert all(o.humidity_pct > 0 and o.temperature_c != 0 for o in observations)


@pytest.mark.parametrize("days", [0, 93, 10_000, -1, True, 2.5])
def test_days_out_of_range_fail_before_any_request(server, days):
    """Test that 0, 93 or 10,000 days is a clear error naming 1..92, and nothing is sent."""
    with pytest.raises(errors.ConfigError, match="from 1 to 92"):
        make_provider(server).past(CITIES_7, days)
    assert server.count() == 0


def test_the_server_refuses_past_days_out_of_range_with_a_reason(server):
    """Test that the fake server answers past_days=93 as Open-Meteo does: 400 with a reason."""
    http = HttpClient(backoff_s=0.01)
    with pytest.raises(errors.BadRequestError,
                       match=r"Past days is invalid\. Allowed range 0 to 92\."):
        http.get_json(f"{server.url}/v1/forecast",
                      {"latitude": "36.7", "longitude": "-119.8", "hourly": "temperature_2m",
                       "past_days": "93", "forecast_days": "0"}, service="Open-Meteo")


def test_rate_limit_raises_with_retry_after(server):
    """Test that a 429 answer to a backfill raises RateLimitError with the wait."""
    server.set_fault("429", retry_after_s=120)
    with pytest.raises(errors.RateLimitError) as caught:
        make_provider(server).past(CITIES_7, 2)
    assert caught.value.retry_after_s == 120


def test_server_errors_raise_after_retries(server):
    """Test that 5xx answers, retried, end in ServerError and no observations."""
    server.set_fault("503")
    with pytest.raises(errors.ServerError, match="503"):
        make_provider(server).past(CITIES_7, 2)
    assert server.count(FORECAST) == 3


def test_an_unknown_city_fails_the_whole_backfill(server):
    """Test that a name the geocoder cannot find raises NotFoundError before the forecast."""
    with pytest.raises(errors.NotFoundError):
        make_provider(server).past(["Fresno", "Nowhere Atall"], 2)
    assert server.count(FORECAST) == 0


def test_a_malformed_answer_fails_the_whole_backfill(server):
    """Test that an answer that is not JSON raises ParseError: nothing is returned half."""
    server.set_fault("malformed")
    with pytest.raises(errors.ParseError):
        make_provider(server).past(CITIES_7, 2)


# -- the pure parser ---------------------------------------------------------------------------
def payload(times, temperature, humidity, wind, offset_s=0):
    return {"utc_offset_seconds": offset_s,
            "hourly": {"time": times, "temperature_2m": temperature,
                       "relative_humidity_2m": humidity, "wind_speed_10m": wind}}


NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_parser_reads_iso_local_times_with_the_offset():
    """Test that ISO times are local to the answer's zone and converted to UTC."""
    obs = parse_past_hourly(FRESNO, payload(["2026-12-05T01:00"], [3.5], [80], [1.2],
                                            offset_s=3600), NOW)
    assert obs[0].time == datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    assert (obs[0].temperature_c, obs[0].humidity_pct, obs[0].wind_speed_ms) == (3.5, 80, 1.2)


def test_parser_drops_now_and_later():
    """Test that the hour equal to now is a forecast too."""
    t = int(NOW.timestamp())
    obs = parse_past_hourly(FRESNO, payload([t - 3600, t, t + 3600], [1, 2, 3], [50] * 3,
                                            [1] * 3), NOW)
    assert [o.temperature_c for o in obs] == [1]


@pytest.mark.parametrize("spoil", [
    {"hourly": None}, {"hourly": {"time": [0]}},
    {"hourly": {"time": [0, 3600], "temperature_2m": [1], "relative_humidity_2m": [1, 2],
                "wind_speed_10m": [1, 2]}},
    {"hourly": {"time": [0], "temperature_2m": ["hot"], "relative_humidity_2m": [1],
                "wind_speed_10m": [1]}},
    {"hourly": {"time": ["yesterday"], "temperature_2m": [1], "relative_humidity_2m": [1],
                "wind_speed_10m": [1]}},
])
def test_parser_refuses_broken_arrays(spoil):
    """Test that missing arrays, unequal lengths, a string value or a bad time raise."""
    with pytest.raises(errors.ParseError, match="Fresno"):
        parse_past_hourly(FRESNO, spoil, NOW)


def test_parser_asks_exactly_the_quantities_an_observation_holds():
    """Test that the hourly variables match temperature, humidity and wind, in order."""
    assert HOURLY_PAST == ("temperature_2m", "relative_humidity_2m", "wind_speed_10m")


# -- demo and OpenWeather ----------------------------------------------------------------------
def test_demo_past_is_the_simulation_on_a_grid_at_the_step():
    """Test that the demo's past is the live simulation every step_s, before now only."""
    now_s = datetime(2026, 7, 1, 12, 0, 10, tzinfo=UTC).timestamp()
    provider = DemoProvider(clock=lambda: now_s)
    past = provider.past(["Fresno", "Tokyo"], 1, step_s=30)
    observations = list(past)
    assert len(past) == len(observations) == 2 * 2880
    times = sorted({o.time.timestamp() for o in observations})
    assert times[-1] == now_s - 10 and times[0] == now_s - 10 - 2879 * 30
    assert all(t % 30 == 0 for t in times)
    sample = observations[1234]
    place = CITIES[sample.city]
    assert (sample.temperature_c, sample.humidity_pct, sample.wind_speed_ms) == \
        simulate(place, sample.time.timestamp())
    # Asked again, the same rows: a backfill run twice has nothing new to add.
    again = {(o.city, o.time) for o in provider.past(["Fresno", "Tokyo"], 1, step_s=30)}
    assert again == {(o.city, o.time) for o in observations}


def test_demo_past_refuses_unknown_cities_and_bad_days():
    """Test that the demo raises before making anything for an unknown city or 0 days."""
    with pytest.raises(errors.NotFoundError, match="Atlantis"):
        DemoProvider().past(["Fresno", "Atlantis"], 1)
    with pytest.raises(errors.ConfigError, match="1 to 92"):
        DemoProvider().past(["Fresno"], 0)


def test_openweather_says_its_free_tier_has_no_history(server):
    """Test that OpenWeather's past is a clear NoHistoryError, sent nowhere."""
    provider = OpenWeatherProvider("KEY", base_url=server.url)
    with pytest.raises(errors.NoHistoryError, match="free tier has no past observations"):
        provider.past(["Fresno"], 3)
    assert server.count() == 0


def test_city_namedtuple_is_what_the_parser_takes():
    """Test that a geocoded place outside the table parses with its own coordinates."""
    place = City("Tromsø", 69.6492, 18.9553, "NO")
    obs = parse_past_hourly(place, payload([0], [1.0], [50.0], [2.0]), NOW)
    assert (obs[0].city, obs[0].lat, obs[0].lon) == ("Tromsø", 69.6492, 18.9553)


@pytest.mark.parametrize(("fault", "said"), [
    ("missing_field", "lacks hourly.temperature_2m"),
    ("wrong_type", "has a str in hourly.temperature_2m where a number should be")])
def test_one_spoilt_location_fails_the_whole_backfill(server, fault, said):
    """Test that one city's broken arrays in a batch raise ParseError naming it: all or none."""
    server.set_fault(fault, city="Fresno")
    with pytest.raises(errors.ParseError, match=said) as caught:
        make_provider(server).past(CITIES_7, 2)
    assert caught.value.city == "Fresno"


def test_a_cached_provider_passes_the_past_through():
    """Test that the Refresh tab's cache in front of a provider gives that provider's past."""
    from weather.cache import CachedProvider

    now_s = datetime(2026, 7, 1, 12, tzinfo=UTC).timestamp()
    cached = CachedProvider(DemoProvider(clock=lambda: now_s))
    assert len(cached.past(["Fresno"], 1, step_s=3600)) == 24
