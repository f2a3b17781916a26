"""The forecast on PostgreSQL: one poll for all processes, followed, kept, taken over."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence

import pytest

from dashboards.server.feed import WeatherFeed
from dashboards.server.forecast import ForecastPoll
from dashboards.server.forecast_store import ForecastStore
from dashboards.server.history import History
from testing.provider_server import ProviderServer
from testing.served import free_port, wait_until
from weather.errors import NotFoundError, RateLimitError, UnreachableError
from weather.http import HttpClient
from weather.providers import OpenMeteoProvider
from weather.providers.base import ForecastResult

from .test_forecast_poll import START, Clock, ScriptedProvider, make_poll

SECRET = "s3cr3t-Pa55"
CITIES = ("San Francisco", "Fresno")
FORECAST_S = 2.0
TAKES_OVER = "this process polls the forecast of open-meteo now"


class CountingOpenMeteo(OpenMeteoProvider):
    """The real Open-Meteo client; counts the forecast polls made through this instance."""

    def __init__(self, server: ProviderServer) -> None:
        super().__init__(base_url=server.url, geocoding_base_url=server.url,
                         http=HttpClient(read_timeout_s=5, connect_timeout_s=2, backoff_s=0.01))
        self.forecast_calls = 0

    def forecast(self, cities: Sequence[str], hours: int = 48) -> list[ForecastResult]:
        self.forecast_calls += 1
        return super().forecast(cities, hours)


class Process:
    """What one server process runs on the shared database: a feed and its forecast poll."""

    def __init__(self, server: ProviderServer, url: str, forecast_s: float = FORECAST_S):
        self.provider = CountingOpenMeteo(server)
        self.feed = WeatherFeed(self.provider, CITIES, History(url, provider="open-meteo"),
                                interval_s=0.5)
        self.forecast = ForecastPoll(self.provider, CITIES, ForecastStore(url), hours=6,
                                     leading=lambda: self.feed.leading, interval_s=forecast_s)

    def start(self) -> Process:
        self.feed.start()
        self.forecast.start()
        return self

    def stop(self) -> None:
        self.forecast.stop()
        self.feed.stop()
        self.forecast.store.close()
        self.feed.history.close()


def forecast_times(server: ProviderServer) -> list[float]:
    """When the server was asked for a forecast (hourly, not current weather, not the past)."""
    return [r.time for r in server.requests if r.path == "/v1/forecast" and "hourly" in r.query
            and "current" not in r.query and "past_days" not in r.query]


def current_polls(server: ProviderServer) -> int:
    return sum(1 for r in server.requests if r.path == "/v1/forecast" and "current" in r.query)


def same_forecast(a: Process, b: Process) -> bool:
    mine, theirs = a.forecast.frame(), b.forecast.frame()
    return not mine.empty and mine.equals(theirs)


@pytest.fixture(params=["sqlite", "postgresql"])
def forecast_db(request, tmp_path) -> str:
    """A database for the forecast table, of each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    return request.getfixturevalue("postgres_url")


# -- one interface, two backends ----------------------------------------------------------------
def test_each_backend_replaces_only_cities_that_came_and_restores_them(forecast_db):
    """Test that save keeps other cities' and other providers' forecasts, and that a store
    opened again on the database holds exactly what was saved, before any poll."""
    clock = Clock()
    store = ForecastStore(forecast_db)
    poll, provider = make_poll(clock, store=store, hours=2)
    poll.poll_now()
    other = ScriptedProvider(clock)
    other.name = "other"
    ForecastPoll(other, ["A"], store, clock=clock, hours=1).poll_now()
    clock.now += 3600
    provider.base_c = 30.0
    provider.failing = {"A": UnreachableError("down", city="A")}
    saved = poll.poll_now()
    again = ForecastStore(forecast_db)
    for source in (store, again):
        latest = source.latest("scripted")
        assert latest[latest["city"] == "B"]["temperature"].iloc[0] == 31.0
        assert latest[latest["city"] == "A"]["temperature"].iloc[0] == 10.0
        assert len(source.latest("other")) == 2 and source.latest("nobody").empty
    restarted, fresh = make_poll(clock, store=again, hours=2)
    assert restarted.frame().equals(saved) and fresh.forecast_calls == 0
    assert restarted.fetched_at == clock.now and store.db_error is None
    store.close()
    again.close()


def test_an_unreachable_database_is_a_forecast_status_line_without_the_password(caplog):
    """Test that a PostgreSQL server that does not answer is the forecast's own status line,
    the forecast is kept in memory, and the password is in no error and no log line."""
    pytest.importorskip("psycopg", reason="pip install '.[postgres]' (psycopg[binary])")
    url = f"postgresql://u:{SECRET}@127.0.0.1:{free_port()}/db?connect_timeout=2"
    store = ForecastStore(url)
    poll, _ = make_poll(Clock(), store=store, hours=1)
    assert len(poll.poll_now()) == 4
    assert store.db_error.startswith("forecast database unreachable")
    assert poll.status().problems() == [store.db_error]
    assert SECRET not in store.db_error and SECRET not in store.description
    assert SECRET not in caplog.text and "***" in caplog.text
    store.close()


# -- one poll for all processes ------------------------------------------------------------------
def test_a_follower_shows_the_pollers_forecast_errors_and_honours_its_hold(postgres_url,
                                                                          caplog):
    """Test that the polling process's per-city error and 429 hold reach a following poll
    through the database, and that the follower, once it polls, waits for that hold."""
    caplog.set_level(logging.INFO, logger="dashboards.server.forecast")
    clock = Clock()
    leads = {"first": True, "second": False}
    first, polled = make_poll(clock, store=ForecastStore(postgres_url), hours=2,
                              leading=lambda: leads["first"])
    second, following = make_poll(clock, store=ForecastStore(postgres_url), hours=2,
                                  leading=lambda: leads["second"])
    polled.failing = {"B": NotFoundError("no such place", city="B")}
    first.poll_now()
    second.start()
    try:
        wait_until(lambda: second.status().problems() == ["forecast for B: not found"]
                   and second.frame().equals(first.frame()), timeout_s=60,
                   message="the poller's forecast and city error followed")
        polled.fail_with = RateLimitError("slow down", retry_after_s=1234)
        first.poll_now()
        assert first.status().problems()[0] == "forecast: slow down"
        wait_until(lambda: second.status().problems() == first.status().problems(),
                   timeout_s=60, message="the poller's rate limit followed")
        assert second.next_poll_at == START + 1234
        leads["first"], leads["second"] = False, True  # the poller is gone
        wait_until(lambda: "this process polls the forecast of scripted now" in caplog.text,
                   timeout_s=60, message="takeover")
        assert following.forecast_calls == 0  # held until Retry-After
        clock.now = START + 1234
        wait_until(lambda: following.forecast_calls == 1 and second.status().problems() == [],
                   timeout_s=60, message="the poll after the hold")
    finally:
        second.stop()
        first.store.close()
        second.store.close()


def test_one_process_polls_the_forecast_for_both_and_the_other_takes_over(postgres_url, caplog):
    """Test two processes on one database: only the feed's poller asks for the forecast (one
    request per interval), the other holds the same frame and status from the database, and
    takes the forecast over when the poller ends."""
    caplog.set_level(logging.INFO, logger="dashboards.server.forecast")
    with ProviderServer() as server:
        first = Process(server, postgres_url).start()
        second = None
        try:
            wait_until(lambda: first.feed.leading and first.forecast.fetched_at is not None,
                       timeout_s=60, message="the first forecast")
            second = Process(server, postgres_url).start()
            asked = len(forecast_times(server))
            wait_until(lambda: len(forecast_times(server)) >= asked + 3, timeout_s=90,
                       interval_s=0.2, message="three more forecast polls")
            assert not second.feed.leading and second.provider.forecast_calls == 0
            times = forecast_times(server)
            # One poller: polls an interval apart (two would give gaps of half one or less).
            assert min(b - a for a, b in itertools.pairwise(times)) > FORECAST_S / 2
            wait_until(lambda: same_forecast(first, second), timeout_s=60,
                       message="the follower holding the poller's forecast")
            assert second.forecast.frame()["fetched_at"].nunique() == 1
            assert second.forecast.status().next_poll_at is not None
            first.stop()
            wait_until(lambda: second.provider.forecast_calls >= 2, timeout_s=90,
                       message="the follower polling the forecast")
            assert TAKES_OVER in caplog.text
            wait_until(lambda: second.forecast.fetched_at > first.forecast.fetched_at,
                       timeout_s=30, message="a newer forecast")
        finally:
            first.stop()
            if second is not None:
                second.stop()


def test_a_restarted_process_shows_the_stored_forecast_at_once_and_does_not_poll_it_again(
        postgres_url, caplog):
    """Test that a process started on the database holds the stored forecast before any poll,
    and, polling for all after taking over, waits for it to be an interval old."""
    caplog.set_level(logging.INFO, logger="dashboards.server.forecast")
    with ProviderServer() as server:
        first = Process(server, postgres_url, forecast_s=3600).start()
        try:
            wait_until(lambda: first.forecast.fetched_at is not None, timeout_s=60,
                       message="the first forecast")
        finally:
            first.stop()
        asked = len(forecast_times(server))
        again = Process(server, postgres_url, forecast_s=3600)
        assert not again.forecast.frame().empty
        assert again.forecast.frame().equals(first.forecast.frame())
        assert again.forecast.fetched_at == first.forecast.fetched_at
        again.start()
        try:
            wait_until(lambda: TAKES_OVER in caplog.text, timeout_s=60, message="takeover")
            polls = current_polls(server)
            wait_until(lambda: current_polls(server) >= polls + 3, timeout_s=60,
                       interval_s=0.2, message="three current-weather polls")
            assert again.provider.forecast_calls == 0 and len(forecast_times(server)) == asked
            assert again.forecast.status().next_poll_at == pytest.approx(
                first.forecast.fetched_at + 3600)
        finally:
            again.stop()


def test_database_down_is_in_both_forecast_statuses_and_current_weather_goes_on(own_cluster):
    """Test that with PostgreSQL down both processes' forecast status says so, nothing
    crashes, the poller keeps polling both feeds into memory (the other polls nothing), and
    the follower gets the forecast of the outage once the database is back."""
    url = own_cluster.create_database("forecast_down")
    with ProviderServer() as server:
        first = Process(server, url).start()
        second = None
        try:
            wait_until(lambda: first.feed.leading and first.forecast.fetched_at is not None,
                       timeout_s=60, message="the first forecast")
            second = Process(server, url).start()
            wait_until(lambda: same_forecast(first, second), timeout_s=60, message="followed")
            own_cluster.crash()
            for process in (first, second):
                wait_until(lambda p=process: any(line.startswith("forecast database unreachable")
                                                 for line in p.forecast.status().problems()),
                           timeout_s=60, message="the outage in the forecast status")
            polls, calls = current_polls(server), first.provider.forecast_calls
            wait_until(lambda: current_polls(server) >= polls + 3
                       and first.provider.forecast_calls >= calls + 2, timeout_s=90,
                       interval_s=0.2, message="both polls going on")
            assert first.feed.status().error is None and first.feed.leading
            assert second.provider.forecast_calls == 0
            in_outage = first.forecast.fetched_at
            own_cluster.start()
            wait_until(lambda: same_forecast(first, second)
                       and second.forecast.fetched_at >= in_outage, timeout_s=120,
                       message="the forecast of the outage shared")
            for process in (first, second):
                wait_until(lambda p=process: p.forecast.status().problems() == [],
                           timeout_s=60, message="the outage over")
        finally:
            first.stop()
            if second is not None:
                second.stop()
