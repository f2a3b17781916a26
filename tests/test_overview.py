"""Windows at screen resolution: summed up in the database, peaks kept, shared by viewers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from dashboards.server.history import History, observations_frame
from dashboards.server.overview import BUCKETS, OverviewCache, summarize
from testing.served import wait_until
from weather.models import Observation

T0 = datetime(2026, 11, 1, tzinfo=UTC)
STEP_S = 30
DAYS = 3
CITIES = ("Fresno", "San Diego")
SPIKE_AT = 1234  # the reading of Fresno that spikes
SPIKE_C = 60.0


def readings(count: int, cities=CITIES, start: datetime = T0) -> object:
    """``count`` polls ``STEP_S`` apart of each city: a daily wave, and one spike in Fresno."""
    rows = []
    for i in range(count):
        when = start + timedelta(seconds=i * STEP_S)
        wave = 15 + 5 * math.sin(i * STEP_S / 86_400 * 2 * math.pi)
        for k, city in enumerate(cities):
            temperature = SPIKE_C if (city == "Fresno" and i == SPIKE_AT) else wave + k
            rows.append(Observation(city=city, lat=0.0, lon=0.0, time=when,
                                    temperature_c=temperature, humidity_pct=50.0 + k,
                                    wind_speed_ms=3.0, provider="demo"))
    return observations_frame(rows)


def filled(db: str, count: int = DAYS * 86_400 // STEP_S) -> History:
    history = History(db, provider="demo")
    history.add(readings(count))
    assert history.db_error is None
    return history


def end_ms(history: History) -> float:
    return float(history.frame()["time"].max().timestamp() * 1000)


@pytest.fixture(params=["sqlite", "memory"])
def history(request, tmp_path):
    db = str(tmp_path / "h.sqlite3") if request.param == "sqlite" else ":memory:"
    history = filled(db)
    yield history
    history.close()


def test_a_long_window_is_at_most_two_points_per_bucket_and_keeps_the_spike(history):
    """Test that three days of 30-second polls come back bounded per line, that the one-poll
    spike and the daily extremes survive, and that times run oldest first."""
    overview = summarize(history, None, end_ms(history))
    assert set(overview.lines["temperature"]) == set(CITIES)
    for city in CITIES:
        times, _ = overview.lines["temperature"][city]
        assert 2 * BUCKETS * 0.9 <= len(times) <= 2 * BUCKETS
        assert np.all(np.diff(times) >= 0)
    _, fresno = overview.lines["temperature"]["Fresno"]
    assert fresno.max() == SPIKE_C
    _, san_diego = overview.lines["temperature"]["San Diego"]
    assert san_diego.max() == pytest.approx(21.0, abs=0.01)
    assert san_diego.min() == pytest.approx(11.0, abs=0.01)


def test_a_short_window_is_every_reading_as_it_was(history):
    """Test that a window with fewer readings than buckets draws each one at its own time."""
    end = end_ms(history)
    overview = summarize(history, end - 3600_000, end)
    frame = history.frame()
    fresno = frame[(frame["city"] == "Fresno")
                   & (frame["time"] >= frame["time"].max() - timedelta(hours=1))]
    times, values = overview.lines["temperature"]["Fresno"]
    expected_ms = [t.timestamp() * 1000 for t in fresno["time"]]
    assert list(times) == expected_ms
    assert list(values) == pytest.approx(fresno["temperature"].tolist())


def test_the_database_and_the_memory_draw_the_same_lines(tmp_path):
    """Test that summing up in SQLite gives the lines that summing up in memory gives."""
    stored = filled(str(tmp_path / "h.sqlite3"))
    memory = filled(":memory:")
    try:
        a = summarize(stored, None, end_ms(stored))
        b = summarize(memory, None, end_ms(memory))
        for quantity in ("temperature", "humidity"):
            for city in CITIES:
                ta, va = a.lines[quantity][city]
                tb, vb = b.lines[quantity][city]
                assert list(ta) == list(tb)
                np.testing.assert_allclose(va, vb)
    finally:
        stored.close()
        memory.close()


def test_a_window_reads_beyond_the_rows_kept_in_memory(tmp_path):
    """Test that "All" draws what is stored, not only the newest rows the process holds."""
    db = str(tmp_path / "h.sqlite3")
    filled(db).close()
    history = History(db, provider="demo", max_rows=100)
    try:
        overview = summarize(history, None, end_ms(history))
        times, _ = overview.lines["temperature"]["Fresno"]
        assert times[0] == T0.timestamp() * 1000
    finally:
        history.close()


def test_viewers_share_one_overview_until_enough_rows_came_after_it(tmp_path):
    """Test that the cache makes a window once for every viewer, and again in the background
    once many rows came after it."""
    history = filled(str(tmp_path / "h.sqlite3"), count=100)
    cache = OverviewCache(history, cities_count=len(CITIES))
    try:
        first = cache.get("All")
        assert cache.get("All") is first
        assert cache.get("24 h") is not first
        start = T0 + timedelta(seconds=100 * STEP_S)
        history.add(readings(cache.stale_rows // len(CITIES) + 1, start=start))
        assert cache.get("All") is first  # still served while a new one is made

        wait_until(lambda: cache.get("All") is not first, timeout_s=30,
                   message="a newer overview")
        assert cache.get("All").last_seq == history.last_seq
    finally:
        cache.close()
        history.close()


def test_postgres_sums_up_like_sqlite(postgres_url, tmp_path):
    """Test that the same readings give the same lines from PostgreSQL as from SQLite."""
    pg = filled(postgres_url, count=5000)
    lite = filled(str(tmp_path / "h.sqlite3"), count=5000)
    try:
        a = summarize(pg, None, end_ms(pg))
        b = summarize(lite, None, end_ms(lite))
        assert a.bucket_ms == b.bucket_ms
        for city in CITIES:
            ta, va = a.lines["temperature"][city]
            tb, vb = b.lines["temperature"][city]
            assert list(ta) == list(tb)
            np.testing.assert_allclose(va, vb)
        assert a.lines["temperature"]["Fresno"][1].max() == SPIKE_C
    finally:
        pg.close()
        lite.close()
