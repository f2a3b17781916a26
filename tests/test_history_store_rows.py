"""Raw rows of the history through its store: batch writes, time ranges, retention, and its
setting (the same calls on PostgreSQL are in test_store.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from dashboards.config import AppConfig
from dashboards.server import raw_rows
from dashboards.server.history import History, observations_frame
from dashboards.server.store import open_store
from weather.errors import ConfigError
from weather.models import Observation

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def obs(city: str, hours: float, temperature_c: float = 10.0) -> Observation:
    return Observation(city=city, lat=37.77, lon=-122.42, time=T0 + timedelta(hours=hours),
                       temperature_c=temperature_c, humidity_pct=60.0, wind_speed_ms=3.0,
                       provider="demo")


def rows(observations):
    return [raw_rows.observation_row(o) for o in observations]


@pytest.fixture
def store(tmp_path):
    opened = open_store(str(tmp_path / "h.sqlite3"))
    yield opened
    opened.close()


def test_add_batch_is_idempotent_and_counts_what_it_added(store):
    """Test that a batch counts only new rows and a second identical batch adds nothing."""
    batch = rows([obs("A", h) for h in range(10)] + [obs("B", h) for h in range(5)])
    assert len(store.insert(batch)) == 15
    assert store.insert(batch) == []
    assert len(store.insert(rows([obs("A", 9), obs("A", 10)]))) == 1
    assert store.count("demo") == 16 and store.count("demo", ["B"]) == 5


def test_rows_between_reads_the_database_not_the_memory(tmp_path):
    """Test that a range older than the rows kept in memory is still read, raw and metric."""
    path = str(tmp_path / "h.sqlite3")
    history = History(path, max_rows=10)
    for start in range(0, 100, 20):
        history.add(observations_frame([obs("A", h, temperature_c=h) for h in
                                        range(start, start + 20)]))
    assert len(history) <= 11  # memory holds only the newest
    window = history.rows_between(T0 + timedelta(hours=5), T0 + timedelta(hours=8))
    assert list(window.columns) == ["city", "time", "lat", "lon", "temperature", "humidity",
                                    "wind_speed", "provider"]
    assert list(window["temperature"]) == [5.0, 6.0, 7.0]  # end excluded
    assert str(window["time"].dtype) == "datetime64[ns, UTC]"
    assert len(history.rows_between()) == 100
    history.close()


def test_rows_between_filters_cities_and_is_oldest_first(store):
    """Test the city filter and the order by time."""
    store.insert(rows([obs("B", 2), obs("A", 1), obs("C", 0), obs("A", 0)]))
    frame = raw_rows.one_frame(store.rows_between("demo", None, None, ["A", "B"]))
    assert list(zip(frame["city"], frame["time"].dt.hour, strict=True)) == \
        [("A", 0), ("A", 1), ("B", 2)]
    assert raw_rows.one_frame(store.rows_between("demo", None, None, ["Z"])).empty


def test_rows_between_without_a_database_uses_memory():
    """Test that ':memory:' histories answer ranges from the rows they hold."""
    history = History(":memory:")
    history.add(observations_frame([obs("A", h) for h in range(5)]))
    assert len(history.rows_between(T0 + timedelta(hours=1), T0 + timedelta(hours=3))) == 2
    assert len(history.rows_between(cities=["B"])) == 0


def test_retention_deletes_old_rows_in_the_store_and_memory(tmp_path):
    """Test that apply_retention keeps the last N days, on disk and in memory."""
    path = str(tmp_path / "h.sqlite3")
    history = History(path)
    history.add(observations_frame([obs("A", h) for h in range(0, 24 * 10, 6)]))
    now_s = (T0 + timedelta(days=10)).timestamp()
    deleted = history.apply_retention(3, now_s=now_s)
    assert deleted == 4 * 7  # days 0..6 of four rows a day
    kept = history.rows_between()
    assert kept["time"].min() >= T0 + timedelta(days=7) and len(kept) == 12
    assert history.frame()["time"].min() >= T0 + timedelta(days=7)
    assert history.apply_retention(None) == 0  # no setting: nothing happens
    history.close()


def test_retention_runs_at_start_from_the_setting(tmp_path):
    """Test that a history opened with retention_days drops old rows before loading."""
    path = tmp_path / "h.sqlite3"
    store = open_store(str(path))
    old = datetime.now(UTC) - timedelta(days=40)
    recent = datetime.now(UTC) - timedelta(days=1)
    store.insert(rows([
        Observation("A", 0, 0, old, 1, 50, 2, "demo"),
        Observation("A", 0, 0, recent, 2, 50, 2, "demo")]))
    store.close()
    history = History(str(path), provider="demo", retention_days=30)
    assert list(history.frame()["temperature"]) == [2.0]
    history.close()
    count = sqlite3.connect(path).execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert count == 1


def test_retention_deletes_in_short_batches(tmp_path, monkeypatch):
    """Test that a large delete is done in several transactions of batch_rows at most."""
    path = tmp_path / "h.sqlite3"
    store = open_store(str(path))
    store.insert(rows([obs("A", h / 60) for h in range(2_500)]))
    store.close()
    statements = []
    original = sqlite3.connect

    def traced(*args, **kwargs):  # the real connection, with its statements recorded
        db = original(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    cutoff_ms = int((T0 + timedelta(days=400)).timestamp() * 1000)
    assert store.delete_older_than(cutoff_ms, batch_rows=1_000) == 2_500
    monkeypatch.undo()
    assert sum(s.startswith("DELETE") for s in statements) == 3
    assert sum(s == "COMMIT" for s in statements) >= 3  # one transaction per batch
    assert store.count(None) == 0
    store.close()


@pytest.mark.parametrize("value", ["0", "-3", "a week", "inf", "nan"])
def test_retention_setting_refuses_bad_values(value):
    """Test that WEATHER_RETENTION_DAYS must be a positive number, named in the error."""
    with pytest.raises(ConfigError, match=r"WEATHER_RETENTION_DAYS.*greater than 0"):
        AppConfig.from_env({"WEATHER_RETENTION_DAYS": value})


def test_retention_setting_defaults_to_keeping_everything():
    """Test that unset or blank keeps everything, and a number is read as days."""
    assert AppConfig.from_env({}).retention_days is None
    assert AppConfig.from_env({"WEATHER_RETENTION_DAYS": " "}).retention_days is None
    assert AppConfig.from_env({"WEATHER_RETENTION_DAYS": "30"}).retention_days == 30.0
