"""Raw-row access to the SQLite history for long ranges: batches, ranges, retention.

Plain functions on a ``sqlite3.Connection`` (the ``observations`` table of ``history.py``),
so the server's ``History`` and a command-line backfill or export running beside it share
them. Every write is a short transaction: a backfill never holds the write lock long enough
for the server's own writes (which wait 1 s) to fail.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd

from weather.models import Observation

#: Columns of a raw row, in the table's order; quantities are metric (°C, %, m/s).
ROW_COLUMNS = ("city", "time_ms", "lat", "lon", "temperature", "humidity", "wind_speed",
               "provider")
#: Rows per transaction of a batch write: a few milliseconds of lock each.
BATCH_ROWS = 5_000
DAY_MS = 86_400_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    city TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    lat REAL, lon REAL,
    temperature REAL, humidity REAL, wind_speed REAL,
    provider TEXT,
    PRIMARY KEY (city, time_ms)
)
"""
# Ranges and retention select by time across cities; the key is by city first.
TIME_INDEX = "CREATE INDEX IF NOT EXISTS observations_time ON observations (time_ms, city)"


def connect(path: str | Path, *, busy_timeout_s: float = 30.0) -> sqlite3.Connection:
    """Open (creating if needed) the history at ``path`` in WAL mode, ready for writes.

    ``busy_timeout_s`` is how long a write waits for another process's transaction.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), timeout=busy_timeout_s, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    with db:
        db.execute(SCHEMA)
        db.execute(TIME_INDEX)
    return db


def observation_row(o: Observation) -> tuple:
    """The table row of one observation."""
    return (o.city, int(o.time.timestamp() * 1000), o.lat, o.lon, o.temperature_c,
            o.humidity_pct, o.wind_speed_ms, o.provider)


def add_batch(db: sqlite3.Connection, rows: Sequence[tuple]) -> int:
    """Insert ``rows`` (``ROW_COLUMNS``) not stored yet, in one transaction; return how many."""
    before = db.total_changes
    with db:
        db.executemany(
            "INSERT OR IGNORE INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return db.total_changes - before


def batches(observations: Iterable[Observation],
            size: int = BATCH_ROWS) -> Iterator[list[tuple]]:
    """Rows of ``observations`` in lists of at most ``size``."""
    batch: list[tuple] = []
    for o in observations:
        batch.append(observation_row(o))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _where(start_ms: int | None, end_ms: int | None,
           cities: Sequence[str] | None) -> tuple[str, list]:
    clauses, args = [], []
    if start_ms is not None:
        clauses.append("time_ms >= ?")
        args.append(start_ms)
    if end_ms is not None:
        clauses.append("time_ms < ?")
        args.append(end_ms)
    if cities is not None:
        clauses.append(f"city IN ({','.join('?' * len(cities))})")
        args.extend(cities)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def to_ms(when: pd.Timestamp | str | float | None) -> int | None:
    """Milliseconds since the epoch of a time (naive means UTC), or None."""
    if when is None:
        return None
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // 1_000_000)


def iter_rows(db: sqlite3.Connection, start=None, end=None, cities: Sequence[str] | None = None,
              *, chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """Raw rows with ``start <= time < end`` (None: unbounded) of ``cities`` (None: all),
    oldest first, as frames of at most ``chunk_rows``: ``time`` is UTC, values metric."""
    where, args = _where(to_ms(start), to_ms(end), cities)
    cursor = db.execute(
        f"SELECT {', '.join(ROW_COLUMNS)} FROM observations{where} ORDER BY time_ms, city",
        args)
    while True:
        records = cursor.fetchmany(chunk_rows)
        if not records:
            return
        yield rows_frame(records)


def rows_frame(records: Sequence[tuple]) -> pd.DataFrame:
    """Records of ``ROW_COLUMNS`` as a frame with ``time`` (UTC) in place of ``time_ms``."""
    frame = pd.DataFrame.from_records(list(records), columns=list(ROW_COLUMNS))
    times = pd.to_datetime(frame.pop("time_ms"), unit="ms", utc=True)
    frame.insert(1, "time", times.astype("datetime64[ns, UTC]"))
    for column in ("lat", "lon", "temperature", "humidity", "wind_speed"):
        frame[column] = frame[column].astype("float64")
    return frame


def rows_between(db: sqlite3.Connection, start=None, end=None,
                 cities: Sequence[str] | None = None) -> pd.DataFrame:
    """All raw rows of ``iter_rows`` in one frame (an empty frame has the columns too)."""
    chunks = list(iter_rows(db, start, end, cities))
    return pd.concat(chunks, ignore_index=True) if chunks else rows_frame([])


def count_rows(db: sqlite3.Connection, cities: Sequence[str] | None = None) -> int:
    """How many rows are stored (of ``cities`` only, when given)."""
    where, args = _where(None, None, cities)
    return db.execute(f"SELECT COUNT(*) FROM observations{where}", args).fetchone()[0]


def apply_retention(db: sqlite3.Connection, days: float | None, *,
                    now_s: float | None = None, batch_rows: int = BATCH_ROWS) -> int:
    """Delete rows older than ``days`` before now (None keeps everything); return how many.

    Deletes in short transactions of ``batch_rows``, so a first retention of a long history
    does not hold the write lock for long.
    """
    if days is None:
        return 0
    cutoff_ms = int(((time.time() if now_s is None else now_s) * 1000) - days * DAY_MS)
    deleted = 0
    while True:
        with db:
            cursor = db.execute(
                "DELETE FROM observations WHERE rowid IN (SELECT rowid FROM observations "
                "WHERE time_ms < ? LIMIT ?)", (cutoff_ms, batch_rows))
        deleted += cursor.rowcount
        if cursor.rowcount < batch_rows:
            return deleted
