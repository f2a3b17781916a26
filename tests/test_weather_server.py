"""Tests of the fake provider server itself, which the client tests, UI tests and benches use."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from testing.provider_server import ProviderServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server():
    with ProviderServer(valid_keys={"K"}) as srv:
        yield srv


def get(server, path, timeout=5, **params):
    return requests.get(f"{server.url}{path}", params=params, timeout=timeout)


def test_openweather_answer_has_every_documented_field(server):
    """Test the 200 body's shape: Kelvin by default, cod an int, dt an int."""
    body = get(server, "/data/2.5/weather", q="Fresno", appid="K").json()
    assert set(body) >= {"coord", "weather", "base", "main", "visibility", "wind", "clouds",
                         "dt", "sys", "timezone", "id", "name", "cod"}
    assert body["cod"] == 200 and body["name"] == "Fresno" and isinstance(body["dt"], int)
    assert 200 < body["main"]["temp"] < 340  # standard units are Kelvin
    assert set(body["main"]) >= {"temp", "feels_like", "temp_min", "temp_max", "pressure",
                                 "humidity"}


@pytest.mark.parametrize(("params", "status", "body"), [
    ({"q": "Fresno", "appid": "nope"}, 401, {"cod": 401, "message": "Invalid API key. Please "
     "see https://openweathermap.org/faq#error401 for more info."}),
    ({"q": "Fresno"}, 401, None),
    ({"q": "Atlantis", "appid": "K"}, 404, {"cod": "404", "message": "city not found"}),
    ({"q": "", "appid": "K"}, 400, {"cod": "400", "message": "Nothing to geocode"}),
    ({"appid": "K"}, 400, None),
    ({"lat": "95", "lon": "0", "appid": "K"}, 400, {"cod": "400", "message": "wrong latitude"}),
])
def test_openweather_errors_are_the_documented_bodies(server, params, status, body):
    """Test 401, 404 (cod a string) and 400 answers."""
    response = get(server, "/data/2.5/weather", **params)
    assert response.status_code == status
    if body is not None:
        assert response.json() == body


def test_openweather_q_with_a_country_suffix(server):
    """Test that "City,CC" finds the city, as upstream does."""
    assert get(server, "/data/2.5/weather", q="Fresno,US", appid="K").json()["name"] == "Fresno"


def test_open_meteo_object_for_one_array_for_several(server):
    """Test that one location answers an object and two an array, in request order."""
    one = get(server, "/v1/forecast", latitude="36.7378", longitude="-119.7871",
              current="temperature_2m").json()
    assert isinstance(one, dict)
    assert set(one) == {"latitude", "longitude", "generationtime_ms", "utc_offset_seconds",
                        "timezone", "timezone_abbreviation", "elevation", "current_units",
                        "current"}
    assert one["timezone"] == "GMT" and one["current"]["interval"] == 900
    assert len(one["current"]["time"]) == len("2026-11-25T14:15")
    assert one["latitude"] != 36.7378  # snapped to the grid
    both = get(server, "/v1/forecast", latitude="36.7378,51.5074", longitude="-119.7871,-0.1278",
               current="temperature_2m", timeformat="unixtime").json()
    assert isinstance(both, list) and len(both) == 2
    assert both[0]["latitude"] < both[1]["latitude"]
    assert isinstance(both[0]["current"]["time"], int)


@pytest.mark.parametrize(("params", "reason"), [
    ({"latitude": "95", "longitude": "0"}, "Latitude must be in range of -90 to 90°. Given: 95.0."),
    ({"latitude": "0", "longitude": "200"}, "Longitude must be in range"),
    ({"latitude": "1,2", "longitude": "3"}, "same number of elements"),
    ({"latitude": "abc", "longitude": "3"}, "invalid String value abc"),
    ({"longitude": "3"}, "required for key 'latitude'"),
    ({"latitude": "1", "longitude": "3", "current": "foo"}, "invalid String value foo"),
    ({"latitude": "1", "longitude": "3", "wind_speed_unit": "furlongs"}, "furlongs"),
])
def test_open_meteo_400_reasons(server, params, reason):
    """Test that bad forecast queries get {"error": true, "reason": ...} and a 400."""
    response = get(server, "/v1/forecast", **params)
    assert response.status_code == 400
    assert response.json()["error"] is True
    assert reason in response.json()["reason"]


def test_geocoding_results_absent_when_nothing_matches(server):
    """Test that unknown names, and 1-character names, give no ``results`` key at all."""
    for name in ("Atlantis", "F", ""):
        body = get(server, "/v1/search", name=name, count=1).json()
        assert "results" not in body and "generationtime_ms" in body
    found = get(server, "/v1/search", name="TROMSØ", count=1).json()["results"]
    assert found[0]["name"] == "Tromsø" and found[0]["country_code"] == "NO"
    assert len(get(server, "/v1/search", name="San", count=10).json()["results"]) > 3


def test_unknown_paths_and_methods_get_404_json(server):
    """Test that odd requests get a JSON 404 and the server keeps serving."""
    assert get(server, "/nope").status_code == 404
    assert requests.head(f"{server.url}/v1/search", timeout=5).status_code == 404
    response = requests.post(f"{server.url}/v1/forecast", data=b"x", timeout=5)
    assert response.status_code == 404 and response.json()["error"] is True
    assert get(server, "/v1/search", name="Fresno", count="many").status_code == 400
    assert get(server, "/data/2.5/weather", q="Fresno", appid="K").status_code == 200


def test_observation_time_advances_every_data_period(server):
    """Test that ``dt`` stays put within data_period_s and moves after it."""
    now = [1_200_000.0]  # a multiple of 600
    server.clock = lambda: now[0]
    server.data_period_s = 600
    first = get(server, "/data/2.5/weather", q="Fresno", appid="K").json()
    now[0] += 599
    assert get(server, "/data/2.5/weather", q="Fresno", appid="K").json() == first
    now[0] += 2
    later = get(server, "/data/2.5/weather", q="Fresno", appid="K").json()
    assert later["dt"] == first["dt"] + 600


def test_fault_times_and_request_log(server):
    """Test that a fault set for N requests ends by itself and the log sees every request."""
    server.set_fault("500", city="Fresno", times=2)
    codes = [get(server, "/data/2.5/weather", q="Fresno", appid="K").status_code
             for _ in range(3)]
    assert codes == [500, 500, 200]
    assert get(server, "/data/2.5/weather", q="Paris", appid="K").status_code == 200
    assert server.count("/data/2.5/weather") == 4 and server.count("/v1/search") == 0
    assert server.requests[-1].query == {"q": "Paris", "appid": "K"}
    server.reset()
    assert server.count() == 0
    with pytest.raises(ValueError, match="timeout"):
        server.set_fault("flood")


def test_an_hourly_fault_spares_open_meteos_current_weather(server):
    """Test that a fault on "forecast_hourly" answers Open-Meteo's hourly= requests only:
    current= on the same path still answers."""
    server.set_fault("429", endpoint="forecast_hourly")
    place = {"latitude": "36.7378", "longitude": "-119.7871"}
    hourly = get(server, "/v1/forecast", hourly="temperature_2m", **place)
    current = get(server, "/v1/forecast", current="temperature_2m", **place)
    assert (hourly.status_code, current.status_code) == (429, 200)
    with pytest.raises(ValueError, match="endpoint"):
        server.set_fault("429", endpoint="hourly")


def test_a_timeout_fault_is_interrupted_by_stop():
    """Test that stop() ends a request sleeping in a timeout fault at once."""
    server = ProviderServer(timeout_fault_s=60).start()
    server.set_fault("timeout")
    failures = []

    def ask():
        try:
            get(server, "/v1/search", timeout=30, name="x")
        except requests.RequestException as exc:
            failures.append(exc)

    worker = threading.Thread(target=ask)
    worker.start()
    assert server.wait_for_count(1, timeout_s=5)
    started = time.monotonic()
    server.stop()
    worker.join(timeout=10)
    assert not worker.is_alive() and len(failures) == 1
    assert time.monotonic() - started < 5


def test_standalone_prints_its_url_and_serves():
    """Test ``python -m testing.provider_server`` prints the URL, then answers on it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "testing.provider_server", "--port", "0", "--latency-ms", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        body = requests.get(f"{url}/v1/search", params={"name": "Fresno"}, timeout=5).json()
        assert body["results"][0]["name"] == "Fresno"
    finally:
        process.terminate()
        process.wait(timeout=10)
