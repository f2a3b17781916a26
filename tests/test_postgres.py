"""PostgreSQL as the shared history: clear errors without the password, outages, one poller."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from dashboards.config import AppConfig, redact_db
from dashboards.server.feed import WeatherFeed
from dashboards.server.history import History
from testing.served import free_port, wait_until
from weather.errors import ConfigError, RateLimitError, UnreachableError
from weather.models import Observation
from weather.providers.base import CityResult, Provider

from .test_store import frame, obs

SECRET = "s3cr3t-Pa55"


def test_weather_db_url_selects_postgres_and_other_schemes_are_refused():
    """Test that WEATHER_DB takes PostgreSQL URLs (query kept), paths, and refuses others."""
    url = f"postgresql://u:{SECRET}@db.example:5433/weather?sslmode=require"
    assert AppConfig.from_env({"WEATHER_DB": url}).db_path == url
    assert AppConfig.from_env({"WEATHER_DB": "postgres://u@h/d"}).db_path == "postgres://u@h/d"
    assert AppConfig.from_env({"WEATHER_DB": ":memory:"}).db_path == ":memory:"
    for bad in (f"mysql://u:{SECRET}@h/d", f"postgresql://u:{SECRET}@h:port/d",
                f"postgresql://u:{SECRET}@h:5432/"):
        with pytest.raises(ConfigError) as caught:
            AppConfig.from_env({"WEATHER_DB": bad})
        assert "WEATHER_DB" in str(caught.value) and SECRET not in str(caught.value)
    assert redact_db(f"postgresql://u:{SECRET}@h/d?password={SECRET}&sslmode=x") == (
        "postgresql://u:***@h/d?password=***&sslmode=x")


def test_missing_driver_names_the_extra_to_install():
    """Test that without psycopg, WEATHER_DB=postgresql://... says which extra to install."""
    code = ("import sys; sys.modules['psycopg'] = None\n"
            "from dashboards.server.store import open_store\n"
            "try:\n    open_store('postgresql://u:pw@127.0.0.1/d')\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out.startswith("ConfigError WEATHER_DB:") and "pip install '.[postgres]'" in out
    assert "\n" not in out and "pw" not in out


@pytest.fixture
def role_url(postgres_cluster, postgres_url) -> str:
    """A database reached as a role that needs a password."""
    from testing.postgres import unique_name

    role = unique_name("r")
    postgres_cluster.create_role(role, SECRET)
    dbname = postgres_url.rsplit("/", 1)[1]
    postgres_cluster.sql(f'GRANT ALL ON DATABASE "{dbname}" TO "{role}"')
    postgres_cluster.sql(f'GRANT ALL ON SCHEMA public TO "{role}"', dbname=dbname)
    return postgres_cluster.url(dbname, user=role, password=SECRET)


def test_password_role_works_and_a_wrong_password_is_one_clear_line(role_url, caplog):
    """Test that the right password works and a wrong one fails naming WEATHER_DB, no secret."""
    history = History(role_url, provider="demo")
    history.add(frame(obs("demo", "A", 0)))
    assert history.db_error is None
    assert SECRET not in history.db_path and "***" in history.db_path
    history.close()
    wrong = role_url.replace(SECRET, "not-" + SECRET)
    with pytest.raises(ConfigError) as caught:
        History(wrong, provider="demo")
    message = str(caught.value)
    assert message.startswith("WEATHER_DB: ") and "password authentication failed" in message
    assert "\n" not in message and SECRET not in message
    assert SECRET not in caplog.text


def test_a_wrong_password_gives_the_error_page_and_one_log_line(role_url, caplog):
    """Test that the served page turns a database setting error into its one-line error."""
    from dashboards.page.shell import page_for
    from dashboards.server import shared

    wrong = role_url.replace(SECRET, "not-" + SECRET)
    try:
        page_for(AppConfig.from_env({"WEATHER_DB": wrong}))
    finally:
        shared.reset()
    lines = [r.getMessage() for r in caplog.records if "cannot start" in r.getMessage()]
    assert len(lines) == 1 and "WEATHER_DB: cannot use the PostgreSQL database" in lines[0]
    assert SECRET not in caplog.text


def test_missing_database_and_unknown_host_are_setting_errors(postgres_cluster):
    """Test that a database or host that does not exist is a WEATHER_DB error, not an outage."""
    with pytest.raises(ConfigError, match=r"WEATHER_DB: .*does not exist"):
        History(postgres_cluster.url("no_such_db", password=SECRET), provider="demo")
    with pytest.raises(ConfigError, match=r"^WEATHER_DB: ") as caught:
        History(f"postgresql://u:{SECRET}@no-such-host.invalid/db", provider="demo")
    assert SECRET not in str(caught.value)


def test_unreachable_server_keeps_history_in_memory(caplog):
    """Test that a server that does not answer is reported as unreachable, rows kept."""
    url = f"postgresql://u:{SECRET}@127.0.0.1:{free_port()}/db?connect_timeout=2"
    history = History(url, provider="demo")
    history.add(frame(obs("demo", "A", 0)))
    assert len(history) == 1
    assert history.db_error.startswith("history database unreachable")
    assert SECRET not in history.db_error and SECRET not in caplog.text


# -- outages -----------------------------------------------------------------------------------
def _count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM observations").fetchone()[0]


def test_rows_taken_while_the_server_is_down_are_written_once_it_is_back(own_cluster):
    """Test that a crash of PostgreSQL loses no row and writes none twice."""
    url = own_cluster.create_database("outage")
    history = History(url, provider="demo")
    history.add(frame(obs("demo", "A", 0)))
    own_cluster.crash()
    history.add(frame(obs("demo", "A", 1)))
    history.add(frame(obs("demo", "A", 2), obs("demo", "A", 1)))
    assert history.db_error.startswith("history database unreachable")
    assert len(history) == 3 and history.unsaved == 2
    own_cluster.start()
    wait_until(history.flush, timeout_s=60, interval_s=0.2, message="the missed rows written")
    assert history.db_error is None and _count(url) == 3
    history.add(frame(obs("demo", "A", 2), obs("demo", "A", 3)))
    assert _count(url) == 4


# -- one poller among processes -----------------------------------------------------------------
class CountingProvider(Provider):
    """Answers every city with an observation stamped with the call number; counts calls."""

    name = "counting"
    calls = 0
    call_times: ClassVar[list[float]] = []
    fail_with: Exception | None = None
    lock = threading.Lock()

    def __init__(self) -> None:
        self.mine = 0  # calls made through this instance (one per feed)

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        self.mine += 1
        with CountingProvider.lock:
            CountingProvider.calls += 1
            CountingProvider.call_times.append(time.time())
            n = CountingProvider.calls
        if CountingProvider.fail_with is not None:
            raise CountingProvider.fail_with
        return [UnreachableError("connection refused", city=c) if c == "B" else
                Observation(city=c, lat=1.0, lon=2.0, time=datetime.fromtimestamp(60 * n, UTC),
                            temperature_c=float(n), humidity_pct=50.0, wind_speed_ms=3.0,
                            provider=self.name)
                for c in cities]


@pytest.fixture
def counting() -> Iterator[type[CountingProvider]]:
    CountingProvider.calls = 0
    CountingProvider.call_times = []
    CountingProvider.fail_with = None
    yield CountingProvider


def _feed(url: str, interval_s: float = 0.5) -> WeatherFeed:
    return WeatherFeed(CountingProvider(), ["A", "B"], History(url, provider="counting"),
                       interval_s=interval_s)


def test_one_feed_polls_the_other_follows_and_takes_over(postgres_url, counting, caplog):
    """Test the election among feeds sharing a database: one polls, the other gets its rows
    and status through the database, and takes over when the poller stops."""
    caplog.set_level(logging.INFO, logger="dashboards.server.feed")
    first, second = _feed(postgres_url), _feed(postgres_url)
    taken: list[int] = []
    second.updates.sink(lambda rows: taken.append(len(rows)))
    first.start()
    wait_until(lambda: first.leading and counting.calls >= 1, timeout_s=30, message="poller")
    second.start()
    try:
        wait_until(lambda: counting.calls >= 4, timeout_s=60, message="four polls")
        assert not second.leading
        wait_until(lambda: len(second.history) >= 3, timeout_s=30, message="rows followed")
        assert taken and sum(taken) == len(second.history)
        # Both show the poller's status, per-city errors included.
        wait_until(lambda: second.status().cities[1].error_status == "unreachable",
                   timeout_s=30, message="shared city error")
        assert second.status().last_poll_at is not None
        first.stop()
        calls = counting.calls
        wait_until(lambda: second.leading and counting.calls > calls + 1, timeout_s=60,
                   message="takeover")
        assert "this process polls counting now" in caplog.text
        frame_ = second.history.frame()
        assert not frame_.duplicated(["city", "time"]).any()
    finally:
        first.stop()
        second.stop()
    assert _count(postgres_url) == len(set(second.history.frame()["time"]))


def test_rate_limit_hold_is_honoured_after_a_takeover(postgres_url, counting):
    """Test that a Retry-After set by one poller stops the next poller from calling early."""
    first = _feed(postgres_url)
    counting.fail_with = RateLimitError("too many requests", retry_after_s=10)
    first.start()
    second = _feed(postgres_url)
    try:
        wait_until(lambda: counting.calls == 1 and first.status().error, timeout_s=30,
                   message="rate limited")
        hold_until = counting.call_times[0] + 10
        counting.fail_with = None
        second.start()
        wait_until(lambda: second.status().error == "too many requests", timeout_s=30,
                   message="status shared")
        first.stop()
        wait_until(lambda: second.leading, timeout_s=30, message="takeover")
        took_over_at = time.time()
        wait_until(lambda: counting.calls >= 2, timeout_s=60, message="the call after the hold")
    finally:
        first.stop()
        second.stop()
    # Meaningful only if the takeover came before the hold ended (as it does by far here).
    assert took_over_at < hold_until
    assert counting.call_times[1] >= hold_until - 0.5  # clocks of the record and the hold


def test_database_outage_is_shown_and_only_the_last_poller_polls(own_cluster, counting):
    """Test that with PostgreSQL down every process says so, the last poller polls on into
    memory, no other process starts polling, and every row is shared once it is back."""
    url = own_cluster.create_database("down")
    first, second = _feed(url), _feed(url)
    first.start()
    wait_until(lambda: first.leading and counting.calls >= 1, timeout_s=30, message="poller")
    second.start()
    try:
        wait_until(lambda: len(second.history) >= 1, timeout_s=30, message="rows followed")
        own_cluster.crash()
        for feed in (first, second):
            wait_until(lambda feed=feed: "history database unreachable" in feed.status().summary(),
                       timeout_s=60, message="the outage in the status")
        follower_calls = second.provider.mine
        calls = counting.calls
        wait_until(lambda: counting.calls >= calls + 3, timeout_s=60, message="polls go on")
        assert first.leading and second.provider.mine == follower_calls
        own_cluster.start()
        # Every poll made (one new observation of A each) reaches the database and both
        # histories once, whichever process polls after the restart.
        wait_until(lambda: _count(url) >= counting.calls - 1, timeout_s=90,
                   message="the polls of the outage written")
        polled = counting.calls
        wait_until(lambda: len(second.history) >= polled and len(first.history) >= polled,
                   timeout_s=90, message="both histories complete")
        wait_until(lambda: first.history.db_error is None and second.history.db_error is None,
                   timeout_s=60, message="the outage over")
    finally:
        first.stop()
        second.stop()
    for feed in (first, second):
        frame_ = feed.history.frame()
        assert not frame_.duplicated(["city", "time"]).any()
    assert _count(url) == len(set(first.history.frame()["time"]) | set(
        second.history.frame()["time"]))


def test_a_hung_poller_is_replaced(postgres_url, counting, caplog):
    """Test that a lock holder which stops sharing its status (a hung process: connection
    open, nothing done) has its session ended by a follower, which then polls."""
    import psycopg

    from dashboards.server.store.postgres import leader_lock_key

    hung = psycopg.connect(postgres_url, autocommit=True)
    assert hung.execute("SELECT pg_try_advisory_lock(%s)",
                        (leader_lock_key("counting"),)).fetchone()[0]
    hung.execute("CREATE TABLE IF NOT EXISTS feed_status (provider text PRIMARY KEY, "
                 "status jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())")
    hung.execute("INSERT INTO feed_status VALUES ('counting', '{}', now() - interval '1 hour')")
    feed = WeatherFeed(CountingProvider(), ["A"], History(postgres_url, provider="counting"),
                       interval_s=0.5, stalled_after_s=60)
    feed.start()
    try:
        wait_until(lambda: feed.leading and counting.calls >= 1, timeout_s=60,
                   message="the follower polling")
        assert "shared no status for 60 s" in caplog.text
    finally:
        feed.stop()
        hung.close()


def test_a_live_poller_is_not_replaced(postgres_url, counting):
    """Test that a poller sharing its status keeps its lock against an impatient follower."""
    first = _feed(postgres_url)
    first.start()
    wait_until(lambda: first.leading and counting.calls >= 1, timeout_s=30, message="poller")
    second = WeatherFeed(CountingProvider(), ["A"], History(postgres_url, provider="counting"),
                         interval_s=0.5, stalled_after_s=8)
    second.start()
    try:
        calls = counting.calls
        # 30 polls of 0.5 s: the poller's status must keep the follower patient throughout.
        wait_until(lambda: counting.calls >= calls + 30, timeout_s=180, message="30 polls")
        assert first.leading and not second.leading and second.provider.mine == 0
    finally:
        first.stop()
        second.stop()


def test_a_database_that_does_not_answer_never_holds_up_a_reader():
    """Test that while a write waits on a server that accepted but never answers, the rows in
    memory stay readable (sessions read them on the server's event loop)."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    silent.settimeout(60)
    url = f"postgresql://u:{SECRET}@127.0.0.1:{silent.getsockname()[1]}/db?connect_timeout=300"
    made: list[History] = []
    loading = threading.Thread(target=lambda: made.append(History(url, provider="demo")))
    loading.start()
    silent.accept()[0].close()  # the first connection fails at once: a history in memory
    loading.join(60)
    history = made[0]
    history.add(frame(obs("demo", "A", 0)))
    stop = threading.Event()

    def keep_flushing() -> None:
        while not stop.is_set() and not history.flush():
            stop.wait(0.1)

    writer = threading.Thread(target=keep_flushing)
    writer.start()
    waiting = silent.accept()[0]  # the writer now waits for an answer that never comes
    read: list[tuple] = []
    reader = threading.Thread(target=lambda: read.append(history.since(0)))
    try:
        reader.start()
        # A generous bound, far below the write's 300 s wait: the read must not wait for it.
        reader.join(60)
        assert not reader.is_alive() and writer.is_alive()
        rows, seq = read[0]
        assert len(rows) == 1 and seq == 1
    finally:
        stop.set()
        waiting.close()
        silent.close()
        writer.join(60)
        reader.join(60)
