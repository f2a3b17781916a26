"""History: bounded in memory, deduplicated by (city, time), persisted and reloaded."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from dashboards.server.history import History, observations_frame
from dashboards.server.store.base import TIME_INDEX
from weather.models import Observation

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def obs(city: str, minute: int, temperature_c: float = 10.0) -> Observation:
    return Observation(city=city, lat=37.77, lon=-122.42, time=T0 + timedelta(minutes=minute),
                       temperature_c=temperature_c, humidity_pct=60.0, wind_speed_ms=3.0,
                       provider="demo")


def rows(*observations: Observation):
    return observations_frame(list(observations))


def test_repeated_observation_is_stored_once():
    """Test that re-polling data that has not changed upstream stores nothing twice."""
    history = History(":memory:")
    first = history.add(rows(obs("A", 0), obs("B", 0)))
    again = history.add(rows(obs("A", 0), obs("B", 0), obs("A", 1)))
    assert list(first["city"]) == ["A", "B"]
    assert list(again["city"]) == ["A"] and list(again["time"]) == [T0 + timedelta(minutes=1)]
    assert len(history) == 3


def test_since_returns_only_rows_after_the_cursor():
    """Test that a session reading with its cursor gets each row exactly once."""
    history = History(":memory:")
    history.add(rows(obs("A", 0)))
    batch, cursor = history.since(0)
    assert len(batch) == 1
    history.add(rows(obs("A", 1), obs("B", 1)))
    batch, cursor2 = history.since(cursor)
    assert list(batch["city"]) == ["A", "B"] and cursor2 == cursor + 2
    batch, cursor3 = history.since(cursor2)
    assert batch.empty and cursor3 == cursor2


def test_memory_is_bounded_and_keeps_the_newest():
    """Test that the in-memory history never grows far past max_rows and keeps the newest."""
    history = History(":memory:", max_rows=100)
    for minute in range(500):
        history.add(rows(obs("A", minute)))
    assert 100 <= len(history) <= 110
    assert history.frame()["time"].iloc[-1] == T0 + timedelta(minutes=499)
    # Rows trimmed from memory are still known, so a late duplicate of a kept row is ignored.
    assert history.add(rows(obs("A", 499))).empty


def test_history_survives_a_restart_in_a_new_process(tmp_path):
    """Test that a second process opening the same database sees the first one's rows."""
    db = tmp_path / "history.sqlite3"
    history = History(str(db))
    history.add(rows(obs("San Francisco", 0, 11.5), obs("Fresno", 0, 20.0)))
    history.close()
    code = (
        "import sys; from dashboards.server.history import History; "
        "f = History(sys.argv[1]).frame(); "
        "print(len(f), ','.join(f['city']), f['temperature'].sum())"
    )
    out = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.split() == ["2", "San", "Francisco,Fresno", "31.5"]


def test_reloaded_history_deduplicates_against_disk(tmp_path):
    """Test that after a reload, the rows already on disk are not stored again."""
    db = str(tmp_path / "h.sqlite3")
    History(db).add(rows(obs("A", 0)))
    reloaded = History(db)
    assert len(reloaded) == 1
    assert reloaded.add(rows(obs("A", 0), obs("A", 1)))["time"].tolist() == [
        T0 + timedelta(minutes=1)
    ]
    count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert count == 2


def test_unwritable_path_keeps_history_in_memory(tmp_path, caplog):
    """Test that a database in a folder that cannot be created is logged and memory goes on."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    history = History(str(blocker / "sub" / "h.sqlite3"))
    history.add(rows(obs("A", 0)))
    assert len(history) == 1
    assert history.db_error and "in memory" in caplog.text


def test_locked_database_is_reported_and_rows_are_written_later(tmp_path):
    """Test that a locked file is reported, and the rows missed are written once it unlocks."""
    db = str(tmp_path / "h.sqlite3")
    history = History(db)
    history.add(rows(obs("A", 0)))
    locker = sqlite3.connect(db, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    history.add(rows(obs("A", 1)))
    assert history.db_error is not None and "written" in history.db_error
    assert len(history) == 2
    locker.rollback()
    locker.close()
    history.add(rows(obs("A", 2)))
    assert history.db_error is None
    times = sqlite3.connect(db).execute("SELECT time_ms FROM observations").fetchall()
    assert len(times) == 3


def test_deleted_database_is_created_again_with_everything_in_memory(tmp_path, caplog):
    """Test that a database file removed while running is recreated with the whole history."""
    db = tmp_path / "h.sqlite3"
    history = History(str(db))
    history.add(rows(obs("A", 0), obs("B", 0)))
    for path in tmp_path.iterdir():
        path.unlink()
    history.add(rows(obs("A", 1)))
    assert "removed" in caplog.text
    count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert count == 3


def test_database_path_that_is_a_folder_keeps_history_in_memory(tmp_path):
    """Test that a path SQLite cannot open (here a folder) leaves the history working."""
    history = History(str(tmp_path))
    history.add(rows(obs("A", 0)))
    history.add(rows(obs("A", 1)))
    assert len(history) == 2 and "opened" in history.db_error


def test_file_of_the_first_layout_is_converted_and_keeps_its_rows(tmp_path):
    """Test that a history file keyed by (city, time) only gains the provider key, rows kept."""
    db = str(tmp_path / "old.sqlite3")
    with sqlite3.connect(db) as old:
        old.execute("CREATE TABLE observations (city TEXT NOT NULL, time_ms INTEGER NOT NULL, "
                    "lat REAL, lon REAL, temperature REAL, humidity REAL, wind_speed REAL, "
                    "provider TEXT, PRIMARY KEY (city, time_ms))")
        # The first layout's backfill indexed it by time; the index leaves with that table.
        old.execute("CREATE INDEX observations_time ON observations (time_ms, city)")
        old.executemany("INSERT INTO observations VALUES (?, ?, 1, 2, ?, 50, 3, ?)",
                        [("A", 60_000, 11.0, "demo"), ("A", 120_000, 12.0, "open-meteo")])
    demo = History(db, provider="demo")
    assert list(demo.frame()["temperature"]) == [11.0]
    # The same city and minute from another provider is now a row of its own.
    live = History(db, provider="open-meteo")
    assert list(live.frame()["temperature"]) == [12.0]
    same_minute = obs("A", 0)
    assert len(live.add(rows(Observation(**{**vars(same_minute), "provider": "open-meteo"})))) == 1
    assert len(demo.add(rows(same_minute))) == 1
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        assert check.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 4
        indexes = {name for (name,) in check.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'observations'")}
    assert TIME_INDEX in indexes and "observations_time" not in indexes
