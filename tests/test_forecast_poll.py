"""The shared forecast poll and its store: one poll for all, off the caller's thread, kept."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from dashboards.server import shared
from dashboards.server.feed import WeatherFeed
from dashboards.server.forecast import ForecastPoll
from dashboards.server.forecast_store import ForecastStore
from dashboards.server.history import History
from testing.provider_server import ProviderServer
from testing.served import wait_until
from weather.api import FORECAST_COLUMNS
from weather.errors import NotFoundError, RateLimitError, UnreachableError
from weather.http import HttpClient
from weather.models import Forecast, ForecastPoint, Observation
from weather.providers import OpenMeteoProvider
from weather.providers.base import CityResult, ForecastResult, Provider

START = 1_796_170_000.0


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class ScriptedProvider(Provider):
    """Current weather always works; forecasts fail as the test says. Counts calls, threads."""

    name = "scripted"

    def __init__(self, clock) -> None:
        self.clock = clock
        self.forecast_calls = 0
        self.threads: list[int] = []
        self.fail_with: Exception | None = None
        self.failing: dict[str, Exception] = {}
        self.base_c = 10.0

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        when = datetime.fromtimestamp(int(self.clock() // 60 * 60), UTC)
        return [Observation(city=c, lat=1.0, lon=2.0, time=when, temperature_c=5.0,
                            humidity_pct=50.0, wind_speed_ms=3.0, provider=self.name)
                for c in cities]

    def forecast(self, cities: Sequence[str], hours: int = 48) -> list[ForecastResult]:
        self.forecast_calls += 1
        self.threads.append(threading.get_ident())
        if self.fail_with is not None:
            raise self.fail_with
        start = datetime.fromtimestamp(int(self.clock() // 3600 * 3600), UTC)
        return [
            self.failing[c] if c in self.failing else
            Forecast(city=c, lat=1.0 + i, lon=2.0, provider=self.name, points=tuple(
                ForecastPoint(start + timedelta(hours=h), self.base_c + i + h, 60.0, 4.0)
                for h in range(hours + 1)))
            for i, c in enumerate(cities)
        ]


def make_poll(clock, store=None, cities=("A", "B"), provider=None, **params):
    provider = provider or ScriptedProvider(clock)
    poll = ForecastPoll(provider, cities, store or ForecastStore(), clock=clock, **params)
    return poll, provider


def test_a_poll_keeps_every_citys_forecast_in_order_with_when_it_was_fetched():
    """Test that one poll gives a metric frame of all cities' points, each with fetched_at."""
    clock = Clock()
    poll, provider = make_poll(clock, cities=("B", "A"), hours=6)
    frame = poll.poll_now()
    assert tuple(frame.columns) == FORECAST_COLUMNS
    assert list(dict.fromkeys(frame["city"])) == ["B", "A"]
    assert len(frame) == 2 * 7 and (frame["status"] == "ok").all()
    assert frame[frame["city"] == "B"]["temperature"].tolist() == [10.0 + h for h in range(7)]
    assert (frame["fetched_at"] == datetime.fromtimestamp(START, UTC)).all()
    assert poll.fetched_at == START and provider.forecast_calls == 1
    assert poll.status().problems() == []


def test_start_polls_on_its_own_thread_then_waits_an_interval():
    """Test that starting polls at once off the caller's thread, and not again before due."""
    poll, provider = make_poll(time.time, interval_s=3600)
    poll.start()
    try:
        wait_until(lambda: poll.fetched_at is not None, timeout_s=30, message="first poll")
        assert threading.get_ident() not in provider.threads
        assert provider.forecast_calls == 1
        assert poll.status().next_poll_at == pytest.approx(poll.fetched_at + 3600)
    finally:
        poll.stop()


def test_a_short_interval_polls_again_by_itself():
    """Test that the thread keeps polling every interval_s."""
    poll, provider = make_poll(time.time, interval_s=0.05)
    poll.start()
    try:
        wait_until(lambda: provider.forecast_calls >= 3, timeout_s=30, message="three polls")
    finally:
        poll.stop()
    calls = provider.forecast_calls
    assert poll.status().next_poll_at is None
    assert provider.forecast_calls == calls  # stopped means stopped


def test_a_failing_city_keeps_its_last_forecast_and_has_its_own_status_line(caplog):
    """Test that a city whose forecast fails keeps the old one (older fetched_at), one line
    in the status and one log line, while the other city's forecast is renewed."""
    clock = Clock()
    poll, provider = make_poll(clock, hours=3)
    poll.poll_now()
    clock.now += 3600
    provider.base_c = 20.0
    provider.failing = {"B": NotFoundError("no such place", city="B")}
    with caplog.at_level(logging.WARNING, logger="dashboards.server.forecast"):
        frame = poll.poll_now()
        poll.poll_now()  # the same failure again: no second log line
    a, b = frame[frame["city"] == "A"], frame[frame["city"] == "B"]
    assert a["temperature"].iloc[0] == 20.0 and b["temperature"].iloc[0] == 11.0
    assert (a["fetched_at"] == datetime.fromtimestamp(START + 3600, UTC)).all()
    assert (b["fetched_at"] == datetime.fromtimestamp(START, UTC)).all()
    assert poll.status().problems() == ["forecast for B: not found"]
    assert [r.getMessage() for r in caplog.records] == ["forecast: B: no such place"]
    provider.failing = {}
    with caplog.at_level(logging.WARNING, logger="dashboards.server.forecast"):
        poll.poll_now()
    assert poll.status().problems() == []
    assert "B recovered" in caplog.records[-1].getMessage()


def test_a_failed_poll_is_a_forecast_line_and_the_current_weather_feed_is_untouched(caplog):
    """Test that an unreachable forecast shows as its own line; the feed on the same provider
    polls and reports nothing wrong; the next good poll clears the line."""
    clock = Clock()
    poll, provider = make_poll(clock, interval_s=3600, retry_s=300)
    poll.poll_now()
    provider.fail_with = UnreachableError("could not connect to the forecast")
    frame = poll.poll_now()
    assert len(frame) == 2 * 49  # what it had is kept
    status = poll.status()
    assert status.problems() == ["forecast: could not connect to the forecast"]
    assert "forecast fetched" in status.summary() and "could not connect" in status.summary()
    assert poll.next_poll_at == START + 300  # retried sooner than the next hour
    feed = WeatherFeed(provider, ["A", "B"], History(":memory:"), clock=clock, interval_s=30)
    assert len(feed.poll_now()) == 2
    assert feed.status().problems() == []
    provider.fail_with = None
    with caplog.at_level(logging.WARNING, logger="dashboards.server.forecast"):
        poll.poll_now()
    assert poll.status().problems() == [] and poll.next_poll_at == START + 3600
    assert "answers again" in caplog.records[-1].getMessage()


def test_a_rate_limit_waits_as_long_as_the_provider_asks():
    """Test that a 429 on the forecast moves the next poll to Retry-After."""
    clock = Clock()
    poll, provider = make_poll(clock)
    provider.fail_with = RateLimitError("slow down", retry_after_s=1234)
    poll.poll_now()
    assert poll.next_poll_at == START + 1234
    assert poll.status().problems() == ["forecast: slow down"]


def test_an_unexpected_exception_never_ends_the_poll():
    """Test that a provider bug is logged and the poll goes on."""
    clock = Clock()
    poll, provider = make_poll(clock)
    provider.fail_with = ZeroDivisionError("bug")
    assert poll.poll_now().empty
    provider.fail_with = None
    assert len(poll.poll_now()) == 2 * 49


def test_a_restart_shows_the_stored_forecast_at_once_and_waits_for_it_to_age(tmp_path):
    """Test that a new poll on the same file holds the forecast before polling, and that
    the history and the forecasts share the one database file."""
    db = str(tmp_path / "history.sqlite3")
    history = History(db)
    clock = Clock()
    first, _ = make_poll(clock, store=ForecastStore(db), hours=4)
    saved = first.poll_now()
    first.store.close()
    clock.now += 600
    again, provider = make_poll(clock, store=ForecastStore(db), hours=4, interval_s=3600)
    restored = again.frame()
    assert restored.equals(saved)
    assert again.fetched_at == START and provider.forecast_calls == 0
    assert again.next_poll_at == START + 3600
    again.store.close()
    history.close()
    with sqlite3.connect(db) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"observations", "forecasts"} <= tables


def test_a_restart_with_a_city_added_polls_at_once(tmp_path):
    """Test that a stored forecast lacking one of the cities does not wait an interval."""
    db = str(tmp_path / "history.sqlite3")
    clock = Clock()
    first, _ = make_poll(clock, store=ForecastStore(db), cities=("A",), hours=2)
    first.poll_now()
    first.store.close()
    clock.now += 60
    again, _ = make_poll(clock, store=ForecastStore(db), cities=("A", "B"), hours=2)
    assert set(again.frame()["city"]) == {"A"}
    assert again.next_poll_at == clock.now
    again.store.close()


def test_an_unusable_database_file_keeps_the_forecast_in_memory(tmp_path):
    """Test that a store whose file cannot be created says so and still works."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    store = ForecastStore(str(blocker / "history.sqlite3"))
    poll, _ = make_poll(Clock(), store=store, hours=1)
    assert len(poll.poll_now()) == 4
    assert store.db_error and "forecast not saved" in store.db_error
    assert poll.status().problems() == [store.db_error]


def test_open_meteo_forecast_poll_is_one_request_for_all_cities():
    """Test that a poll through the real Open-Meteo client costs one upstream request."""
    with ProviderServer() as server:
        http = HttpClient(read_timeout_s=5, connect_timeout_s=2, backoff_s=0.01)
        provider = OpenMeteoProvider(base_url=server.url, geocoding_base_url=server.url,
                                     http=http)
        cities = ("San Francisco", "Fresno", "Atlantis")
        poll = ForecastPoll(provider, cities, ForecastStore())
        frame = poll.poll_now()
        assert server.count("/v1/forecast") == 1
        assert set(frame["city"]) == {"San Francisco", "Fresno"}
        assert poll.status().problems() == ["forecast for Atlantis: not found"]


def test_the_shared_forecast_starts_with_the_feed_and_stops_on_reset(demo_settings):
    """Test that the process's forecast poll starts where the feed does and polls the demo."""
    feed = shared.shared_feed(demo_settings)
    poll = shared.shared_forecast(demo_settings)
    assert poll.provider is feed.provider and poll.interval_s == 3600
    wait_until(lambda: not poll.frame().empty, timeout_s=30, message="demo forecast")
    assert set(poll.frame()["city"]) == set(demo_settings.cities)
    shared.reset()
    assert poll.status().next_poll_at is None
