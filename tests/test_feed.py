"""The shared feed: polls off the caller's thread, survives every failure, backs off politely."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from dashboards.server.feed import WeatherFeed
from dashboards.server.history import History
from dashboards.server.status import FeedStatus
from testing.served import wait_until
from weather.errors import AuthError, RateLimitError, UnreachableError
from weather.models import Observation
from weather.providers.base import CityResult, Provider


class ScriptedProvider(Provider):
    """A provider whose answers the test decides; it counts calls and their threads."""

    name = "scripted"

    def __init__(self, clock) -> None:
        self.clock = clock
        self.calls = 0
        self.threads: list[int] = []
        self.fail_with: Exception | None = None
        self.failing_cities: set[str] = set()

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        self.calls += 1
        self.threads.append(threading.get_ident())
        if self.fail_with is not None:
            raise self.fail_with
        # Observation time moves with the clock, to the minute, like a provider's data.
        minute = int(self.clock() // 60) * 60
        return [
            UnreachableError("connection refused", city=c) if c in self.failing_cities else
            Observation(city=c, lat=1.0, lon=2.0, time=datetime.fromtimestamp(minute, UTC),
                        temperature_c=10.0 + i, humidity_pct=50.0, wind_speed_ms=3.0,
                        provider=self.name)
            for i, c in enumerate(cities)
        ]


class Clock:
    def __init__(self, now: float = 1_764_072_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_feed(clock: Clock, **params) -> tuple[WeatherFeed, ScriptedProvider]:
    provider = ScriptedProvider(clock)
    feed = WeatherFeed(provider, ["A", "B"], History(":memory:"), clock=clock,
                       interval_s=params.pop("interval_s", 30.0), **params)
    return feed, provider


def test_poll_stores_new_rows_once():
    """Test that polling unchanged upstream data adds no rows, and new data adds one per city."""
    clock = Clock()
    feed, _ = make_feed(clock)
    assert len(feed.poll_now()) == 2
    assert len(feed.poll_now()) == 0
    clock.now += 60
    assert len(feed.poll_now()) == 2
    assert len(feed.history) == 4


def test_start_polls_on_the_feeds_thread_not_the_callers():
    """Test that starting the feed calls no provider on the caller's thread, then polls."""
    clock = Clock()
    feed, provider = make_feed(clock, interval_s=0.05)
    feed.start()
    try:
        assert threading.get_ident() not in provider.threads
        wait_until(lambda: len(feed.history) == 2, timeout_s=10, message="first poll")
        assert threading.get_ident() not in provider.threads
    finally:
        feed.stop()


def test_a_started_feed_polls_once_then_waits_an_interval():
    """Test that the first poll after start is not followed at once by a second one."""
    clock = Clock()
    feed, provider = make_feed(clock, interval_s=60)
    feed.start()
    try:
        wait_until(lambda: provider.calls >= 1, timeout_s=10, message="first poll")
        # A second poll would follow within milliseconds; the next is a minute away.
        with pytest.raises(TimeoutError):
            wait_until(lambda: provider.calls >= 2, timeout_s=1.0, message="a second poll")
    finally:
        feed.stop()
    assert provider.calls == 1


def test_exception_inside_poll_does_not_end_polling(caplog):
    """Test that an unexpected exception in a poll is logged and the next poll still happens."""
    clock = Clock()
    feed, provider = make_feed(clock, interval_s=0.05)
    provider.fail_with = RuntimeError("boom")
    feed.start()
    try:
        wait_until(lambda: provider.calls >= 3, timeout_s=10, message="three polls")
        provider.fail_with = None
        wait_until(lambda: len(feed.history) == 2, timeout_s=10, message="recovery")
    finally:
        feed.stop()
    assert "poll failed unexpectedly" in caplog.text


def test_rejected_key_slows_polling_and_recovers_by_itself():
    """Test that a 401 is reported, polling waits auth_retry_s, and a working key recovers."""
    clock = Clock()
    feed, provider = make_feed(clock, auth_retry_s=300)
    provider.fail_with = AuthError("the OpenWeather API key was rejected")
    feed.poll_now()
    assert "key was rejected" in feed.status().error
    for _ in range(5):  # five ordinary intervals: no call
        clock.now += 30
        feed.poll_now()
    assert provider.calls == 1
    provider.fail_with = None
    clock.now += 160  # 310 s after the rejection
    assert len(feed.poll_now()) == 2
    assert provider.calls == 2 and feed.status().error is None


def test_rate_limit_waits_for_retry_after():
    """Test that after a 429 no call is made before Retry-After has passed."""
    clock = Clock()
    feed, provider = make_feed(clock)
    provider.fail_with = RateLimitError("too many requests", retry_after_s=90)
    feed.poll_now()
    assert feed.status().next_poll_at is None  # not started: no schedule to tell
    clock.now += 60
    feed.poll_now()
    assert provider.calls == 1
    provider.fail_with = None
    clock.now += 31
    feed.poll_now()
    assert provider.calls == 2


def test_outage_keeps_data_marks_stale_and_resumes(caplog):
    """Test that a city failing for several intervals keeps its rows, goes stale, recovers."""
    caplog.set_level(logging.WARNING, logger="dashboards.server.feed")
    clock = Clock()
    feed, provider = make_feed(clock)
    feed.poll_now()
    provider.failing_cities = {"B"}
    for _ in range(4):
        clock.now += 60
        feed.poll_now()
    status = {c.city: c for c in feed.status().cities}
    assert status["B"].error_status == "unreachable" and status["B"].stale
    assert not status["A"].stale and status["A"].error is None
    frame = feed.history.frame()
    assert (frame["city"] == "B").sum() == 1  # no invented rows during the outage
    assert (frame["city"] == "A").sum() == 5
    assert caplog.text.count("B: connection refused") == 1  # logged once, not every interval
    provider.failing_cities = set()
    clock.now += 60
    feed.poll_now()
    assert feed.status().cities[1].error is None and not feed.status().cities[1].stale
    assert "B recovered" in caplog.text


def test_status_summary_reads_like_a_sentence():
    """Test that the status line names the last poll time and failing cities in words."""
    clock = Clock()
    feed, provider = make_feed(clock)
    provider.failing_cities = {"A"}
    feed.poll_now()
    summary = feed.status().summary()
    assert summary.startswith("updated ") and "A: unreachable" in summary


def test_latest_results_come_from_history_without_a_provider_call():
    """Test that the newest row per city is served from history, and missing cities say why."""
    clock = Clock()
    feed, provider = make_feed(clock)
    provider.failing_cities = {"B"}
    feed.poll_now()
    calls = provider.calls
    first, second = feed.latest_results()
    assert provider.calls == calls
    assert isinstance(first, Observation) and first.city == "A" and first.temperature_c == 10.0
    assert second.status == "unreachable"
    feed.cities = ("A", "C")
    assert feed.latest_results()[1].status == "waiting"


def test_history_database_trouble_shows_in_the_status(tmp_path):
    """Test that a history that cannot be saved is named in the feed's status line."""
    clock = Clock()
    provider = ScriptedProvider(clock)
    feed = WeatherFeed(provider, ["A"], History(str(tmp_path)), clock=clock)  # a folder
    feed.poll_now()
    assert len(feed.history) == 1
    assert "history not saved" in feed.status().summary()


def test_status_line_reads_the_same_all_through_an_interval():
    """Test that the next poll is given as a clock time, not a countdown that ticks each second.

    A line that changes every second makes every page showing it lay out again: an idle
    wall screen spent a steady share of a core on it.
    """
    status = FeedStatus(provider="demo", last_poll_at=1_764_072_000.0,
                        next_poll_at=1_764_072_060.0, error=None, cities=())
    summary = status.summary()
    assert summary == "updated 12:00:00 UTC · next poll 12:01:00"
    assert FeedStatus(**{**vars(status), "next_poll_at": None}).summary() == (
        "updated 12:00:00 UTC")


def test_every_new_row_goes_out_on_the_updates_stream_once():
    """Test that rows new to the history are emitted on `updates`, and repeats are not."""
    clock = Clock()
    feed, _ = make_feed(clock)
    batches = []
    feed.updates.sink(batches.append)
    feed.poll_now()
    feed.poll_now()  # unchanged upstream: nothing new
    clock.now += 60
    feed.poll_now()
    assert [len(b) for b in batches] == [2, 2]
    assert list(batches[1]["seq"]) == [3, 4]


def test_stop_ends_the_timer_thread_and_start_resumes():
    """Test that stopping the feed ends its thread (no poll after), and starting again polls."""
    clock = Clock()
    feed, provider = make_feed(clock, interval_s=0.05)

    def timers() -> int:
        return sum(t.name == "weather-feed" and t.is_alive() for t in threading.enumerate())

    before = timers()
    feed.start()
    assert timers() == before + 1
    wait_until(lambda: provider.calls >= 2, timeout_s=10, message="polls")
    feed.stop()
    assert timers() == before
    calls = provider.calls
    assert feed.status().next_poll_at is None
    feed.start()
    try:
        wait_until(lambda: provider.calls > calls, timeout_s=10, message="polling again")
    finally:
        feed.stop()


def test_latest_results_never_show_another_providers_rows(tmp_path):
    """Test that a live run on a demo run's history file says "waiting", not the demo's values
    (the Refresh table starts from these), and the demo run still sees its own."""
    db = str(tmp_path / "history.sqlite3")
    clock = Clock()
    demo = ScriptedProvider(clock)
    demo.name = "demo"
    WeatherFeed(demo, ["A", "B"], History(db, provider="demo"), clock=clock).poll_now()
    live = ScriptedProvider(clock)
    live.name = "open-meteo"
    live_feed = WeatherFeed(live, ["A", "B"], History(db, provider="open-meteo"), clock=clock)
    assert [r.status for r in live_feed.latest_results()] == ["waiting", "waiting"]
    demo_again = WeatherFeed(demo, ["A", "B"], History(db, provider="demo"), clock=clock)
    assert [r.provider for r in demo_again.latest_results()] == ["demo", "demo"]
