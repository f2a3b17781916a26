"""The history store contract, run against every backend: SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from dashboards.server.history import History, observations_frame
from dashboards.server.store import Store, open_store
from dashboards.server.store.base import SCHEMA_VERSION
from weather.models import Observation

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MS0 = int(T0.timestamp() * 1000)


def row(provider: str, city: str, minute: int, temperature: float = 10.0) -> tuple:
    return (provider, city, MS0 + minute * 60_000, 37.7, -122.4, temperature, 60.0, 3.0)


def obs(provider: str, city: str, minute: int, temperature_c: float = 10.0) -> Observation:
    return Observation(city=city, lat=37.77, lon=-122.42, time=T0 + timedelta(minutes=minute),
                       temperature_c=temperature_c, humidity_pct=60.0, wind_speed_ms=3.0,
                       provider=provider)


def frame(*observations: Observation):
    return observations_frame(list(observations))


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh database of each backend, as ``WEATHER_DB`` would name it."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(location: str) -> Iterator[Store]:
    opened = open_store(location)
    yield opened
    opened.close()


def test_insert_returns_only_rows_new_to_the_store(store):
    """Test that rows are unique by (provider, city, time) and only new ones get ids."""
    first = store.insert([row("demo", "A", 0), row("demo", "B", 0)])
    again = store.insert([row("demo", "A", 0), row("demo", "A", 1)])
    other = store.insert([row("open-meteo", "A", 0)])  # same city and time, another provider
    assert len(first) == 2 and len(again) == 1 and len(other) == 1
    assert again[0] > max(first) and other[0] > again[0]
    assert store.insert([row("demo", "B", 0)]) == []


def test_reads_keep_to_one_provider(store):
    """Test that newest() and after() return the named provider's rows only, in order."""
    store.insert([row("demo", "A", m, temperature=m) for m in range(5)])
    store.insert([row("open-meteo", "A", m, temperature=100 + m) for m in range(5)])
    newest = store.newest("demo", 3)
    assert [r[3] for r in newest] == [MS0 + m * 60_000 for m in (2, 3, 4)]
    assert {r[1] for r in newest} == {"demo"}
    assert [r[6] for r in store.newest("open-meteo", 10)] == [100.0 + m for m in range(5)]
    first_id = store.newest("demo", 10)[0][0]
    after = store.after("demo", first_id, 100)
    assert [r[6] for r in after] == [1.0, 2.0, 3.0, 4.0]
    assert [r[0] for r in after] == sorted(r[0] for r in after)
    assert store.after("demo", after[-1][0], 100) == []


def test_schema_carries_a_version(location, store):
    """Test that the schema is created on first use with its version recorded."""
    store.insert([row("demo", "A", 0)])
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location) as conn:
            versions = conn.execute("SELECT version FROM schema_version").fetchall()
    else:
        import sqlite3

        versions = sqlite3.connect(location).execute(
            "SELECT version FROM schema_version").fetchall()
    assert versions == [(SCHEMA_VERSION,)]
    # A second process opening the same database neither fails nor adds a version.
    again = open_store(location)
    assert len(again.newest("demo", 10)) == 1
    again.close()


def test_history_on_each_backend_keeps_and_reloads(location):
    """Test that a history written by one run is what the next run of that provider shows."""
    first = History(location, provider="demo")
    assert len(first.add(frame(obs("demo", "A", 0), obs("demo", "B", 0)))) == 2
    assert first.add(frame(obs("demo", "A", 0))).empty
    first.close()
    second = History(location, provider="demo")
    assert list(second.frame()["city"]) == ["A", "B"]
    assert second.add(frame(obs("demo", "A", 0), obs("demo", "A", 1)))["time"].tolist() == [
        T0 + timedelta(minutes=1)]
    assert second.db_error is None
    second.close()


@pytest.mark.parametrize(("first", "second"), [("demo", "open-meteo"), ("open-meteo", "demo")])
def test_a_run_never_shows_another_providers_rows(location, first, second):
    """Test that simulated rows never appear in a live run on the same database, and back.

    Both runs write the same cities at the same minutes: each keeps its own rows.
    """
    one = History(location, provider=first)
    one.add(frame(obs(first, "San Francisco", 0, 11.0), obs(first, "Fresno", 0, 21.0)))
    one.close()
    other = History(location, provider=second)
    assert other.frame().empty
    # Rows of another provider are not taken even when handed over.
    assert other.add(frame(obs(first, "San Francisco", 1))).empty
    added = other.add(frame(obs(second, "San Francisco", 0, 15.0)))
    assert list(added["provider"]) == [second]
    other.close()
    again = History(location, provider=first)
    shown = again.frame()
    assert set(shown["provider"]) == {first}
    assert sorted(shown["temperature"]) == [11.0, 21.0]
    again.close()
    reopened = History(location, provider=second)
    assert list(reopened.frame()["temperature"]) == [15.0]
    reopened.close()


def test_catch_up_reads_rows_stored_by_another_writer(location):
    """Test that rows another process stored reach this history once, through catch_up."""
    reader = History(location, provider="demo")
    writer = History(location, provider="demo")
    writer.add(frame(obs("demo", "A", 0), obs("demo", "B", 0)))
    live = open_store(location)
    live.insert([row("open-meteo", "B", 1), row("open-meteo", "A", 0)])  # never read by demo
    live.close()
    rows = reader.catch_up()
    assert sorted(rows["city"]) == ["A", "B"] and set(rows["provider"]) == {"demo"}
    assert len(reader.add(rows, stored=True)) == 2
    assert reader.catch_up().empty
    writer.add(frame(obs("demo", "A", 1)))
    assert list(reader.catch_up()["time"]) == [T0 + timedelta(minutes=1)]
    reader.close()
    writer.close()


# -- long ranges, counts and retention ---------------------------------------------------------
def test_rows_between_is_one_providers_range_oldest_first_in_chunks(store):
    """Test a range read: provider, time window (end excluded), cities, order, chunk sizes."""
    store.insert([row("demo", city, m, temperature=m) for m in range(10) for city in "CBA"])
    store.insert([row("open-meteo", "A", m, temperature=100 + m) for m in range(10)])
    chunks = list(store.rows_between("demo", MS0 + 2 * 60_000, MS0 + 8 * 60_000, ["A", "B"],
                                     chunk_rows=5))
    assert [len(c) for c in chunks] == [5, 5, 2]
    rows = [r for c in chunks for r in c]
    assert [(r[2], r[1]) for r in rows] == [(MS0 + m * 60_000, city) for m in range(2, 8)
                                            for city in "AB"]
    assert {r[0] for r in rows} == {"demo"} and rows[0][5] == 2.0
    assert len(rows[0]) == 8  # a raw row: no id
    everything = [r for c in store.rows_between("demo", None, None) for r in c]
    assert len(everything) == 30
    assert [r[5] for c in store.rows_between("open-meteo", None, None) for r in c] == \
        [100.0 + m for m in range(10)]
    assert list(store.rows_between("demo", None, None, ["Z"])) == []
    assert list(store.rows_between("demo", None, None, [])) == []


def test_count_keeps_to_the_provider_and_cities(store):
    """Test that count() counts one provider's rows, of some cities when asked."""
    store.insert([row("demo", city, m) for m in range(4) for city in "AB"])
    store.insert([row("open-meteo", "A", m) for m in range(3)])
    assert store.count("demo") == 8 and store.count("demo", ["A"]) == 4
    assert store.count("open-meteo") == 3 and store.count("open-meteo", ["B"]) == 0
    assert store.count(None) == 11


def test_delete_older_than_clears_every_provider_in_batches(store):
    """Test that retention deletes old rows of all providers, batch by batch, and no others."""
    store.insert([row("demo", "A", m) for m in range(25)])
    store.insert([row("open-meteo", "A", m) for m in range(25)])
    assert store.delete_older_than(MS0 + 20 * 60_000, batch_rows=7) == 40
    assert store.count("demo") == 5 and store.count("open-meteo") == 5
    assert store.rows_between("demo", None, None).__next__()[0][2] == MS0 + 20 * 60_000
    assert store.delete_older_than(MS0 + 20 * 60_000, batch_rows=7) == 0


def test_ranges_have_a_time_index(location, store):
    """Test that the schema indexes (time_ms, city), which ranges and retention select by."""
    store.insert([row("demo", "A", 0)])
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location) as conn:
            found = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = "
                                 "'observations'").fetchall()
    else:
        import sqlite3

        found = sqlite3.connect(location).execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
    assert any("(time_ms, city)" in definition for (definition,) in found), found


def test_history_ranges_and_retention_on_each_backend(location):
    """Test History.rows_between (past what memory holds) and apply_retention on both backends,
    with another provider's rows in the same database left out of the range."""
    history = History(location, max_rows=5, provider="demo")
    history.add(frame(*[obs("demo", "A", m, temperature_c=m) for m in range(30)]))
    other = open_store(location)
    other.insert([row("open-meteo", "A", m) for m in range(30)])
    window = history.rows_between(T0 + timedelta(minutes=3), T0 + timedelta(minutes=6))
    assert list(window["temperature"]) == [3.0, 4.0, 5.0]
    assert set(window["provider"]) == {"demo"} and len(history.rows_between()) == 30
    now_s = (T0 + timedelta(minutes=30)).timestamp()
    assert history.apply_retention(10 / 1440, now_s=now_s) == 2 * 20  # both providers
    assert history.rows_between()["time"].min() == T0 + timedelta(minutes=20)
    assert other.count("open-meteo") == 10 and history.db_error is None
    other.close()
    history.close()
