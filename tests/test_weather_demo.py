"""Tests of the demo provider: plausible, changing, reproducible, and never on the network."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from weather import weather_data
from weather.cities import CALIFORNIA_CITIES, CITIES
from weather.errors import NotFoundError
from weather.models import Observation
from weather.providers import DemoProvider, get_provider
from weather.providers.demo import simulate

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a connection fail loudly."""
    def refuse(*args, **kwargs):
        raise AssertionError("the demo provider must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_values_are_plausible_for_every_city_all_year(no_network):
    """Test that every built-in city stays within Earth-like ranges over a year."""
    for hours in range(0, 365 * 24, 97):
        t = T0 + hours * 3600
        for place in CITIES.values():
            temperature_c, humidity, wind_ms = simulate(place, t)
            assert -45 < temperature_c < 50
            assert 5 <= humidity <= 100
            assert 0 <= wind_ms < 30


def test_cycles_follow_latitude_season_and_time_of_day(no_network):
    """Test that Singapore is warmer than Helsinki in January and afternoons beat nights."""
    january = datetime(2026, 1, 15, 12, tzinfo=UTC).timestamp()
    assert simulate(CITIES["Singapore"], january)[0] > simulate(CITIES["Helsinki"], january)[0] + 15
    july = datetime(2026, 7, 15, 12, tzinfo=UTC).timestamp()
    assert simulate(CITIES["Helsinki"], july)[0] > simulate(CITIES["Helsinki"], january)[0] + 10
    fresno = CITIES["Fresno"]
    afternoon = datetime(2026, 7, 15, 23, tzinfo=UTC).timestamp()   # ~15:00 local solar
    before_dawn = datetime(2026, 7, 15, 11, tzinfo=UTC).timestamp()  # ~03:00 local solar
    assert simulate(fresno, afternoon)[0] > simulate(fresno, before_dawn)[0] + 5
    assert simulate(fresno, afternoon)[1] < simulate(fresno, before_dawn)[1]


def test_identical_times_give_identical_values(no_network):
    """Test that two providers with the same clock agree exactly, time included."""
    a = DemoProvider(clock=lambda: T0).current(CALIFORNIA_CITIES)
    b = DemoProvider(clock=lambda: T0 + 0.4).current(CALIFORNIA_CITIES)
    assert a == b
    assert all(obs.time == datetime.fromtimestamp(T0, tz=UTC) for obs in a)


def test_values_change_from_one_call_to_the_next(no_network):
    """Test that a few seconds later the values have moved, by a little."""
    now = [T0]
    provider = DemoProvider(clock=lambda: now[0])
    first = provider.current(CALIFORNIA_CITIES)
    now[0] += 5
    second = provider.current(CALIFORNIA_CITIES)
    assert all(a.time != b.time for a, b in zip(first, second, strict=True))
    assert sum(a.temperature_c != b.temperature_c for a, b in zip(first, second, strict=True)) > 3
    assert all(abs(a.temperature_c - b.temperature_c) < 1
               for a, b in zip(first, second, strict=True))


def test_cities_differ_from_each_other(no_network):
    """Test that per-city phases keep two close cities from moving in lockstep."""
    values = {simulate(CITIES[c], T0) for c in CALIFORNIA_CITIES}
    assert len(values) == len(CALIFORNIA_CITIES)


def test_unknown_city_is_not_found_and_lookup_ignores_case(no_network):
    """Test that only built-in cities are known, whatever their case or accents."""
    results = DemoProvider(clock=lambda: T0).current(["Atlantis", "san francisco", "SAO PAULO"])
    assert isinstance(results[0], NotFoundError) and results[0].status == "not found"
    assert isinstance(results[1], Observation) and results[1].city == "san francisco"
    assert isinstance(results[2], Observation)


def test_weather_data_with_the_demo_provider_needs_no_server(no_network):
    """Test that weather_data works end to end with no server at all."""
    frame = weather_data(list(CALIFORNIA_CITIES), provider=get_provider("demo"))
    assert list(frame["status"]) == ["ok"] * 7
    assert frame["provider"].eq("demo").all()
