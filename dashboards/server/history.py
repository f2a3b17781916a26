"""Bounded observation history in memory, kept in a store (SQLite or PostgreSQL) behind it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import pandas as pd

from dashboards.server import raw_rows
from dashboards.server.store import Store, StoreUnavailable, open_store
from dashboards.server.store.base import Row, StoredRow
from weather.models import Observation

log = logging.getLogger(__name__)

#: Columns of the history frame; quantities are metric (°C, %, m/s) like ``Observation``.
COLUMNS = ("seq", "city", "time", "lat", "lon", "temperature", "humidity", "wind_speed",
           "provider")


def observations_frame(observations: Sequence[Observation]) -> pd.DataFrame:
    """Turn observations into history rows (without ``seq``), metric as they come."""
    frame = pd.DataFrame(
        {
            "city": pd.Series([o.city for o in observations], dtype=object),
            "time": pd.to_datetime([o.time for o in observations], utc=True),
            "lat": pd.Series([o.lat for o in observations], dtype="float64"),
            "lon": pd.Series([o.lon for o in observations], dtype="float64"),
            "temperature": pd.Series([o.temperature_c for o in observations], dtype="float64"),
            "humidity": pd.Series([o.humidity_pct for o in observations], dtype="float64"),
            "wind_speed": pd.Series([o.wind_speed_ms for o in observations], dtype="float64"),
            "provider": pd.Series([o.provider for o in observations], dtype=object),
        }
    )
    frame["time"] = frame["time"].astype("datetime64[ns, UTC]")
    return frame


def empty_frame() -> pd.DataFrame:
    """Return a history frame with no rows and the right dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})
    frame["seq"] = frame["seq"].astype("int64")
    frame["city"] = frame["city"].astype(object)
    frame["provider"] = frame["provider"].astype(object)
    frame["time"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame


class History:
    """Every observation of one provider once, identified by (provider, city, time).

    The newest ``max_rows`` rows stay in memory for the plots; all rows go to the store of
    ``db`` (a SQLite path, a PostgreSQL URL, or ``":memory:"`` to keep nothing). Only rows of
    ``provider`` are read or taken: a demo run and a live run on one database never see each
    other's rows (``provider=None`` takes any, for a history with no store). A store that
    cannot be used is logged and reported in ``db_error``; the history then carries on in
    memory and writes what it missed once the store is usable again. ``retention_days``
    (None: keep everything) drops older rows at start and then about once a day, on a write.
    """

    def __init__(self, db: str | Store | None = ":memory:", max_rows: int = 50_000,
                 provider: str | None = None, retention_days: float | None = None) -> None:
        self.max_rows = max_rows
        self.provider = provider
        self.retention_days = retention_days
        self._retained_at_s: float | None = None
        self.db_error: str | None = None
        self.store = open_store(db) if isinstance(db, str) else db
        #: Where the rows go, fit for a log line or a page (no password).
        self.db_path = self.store.description if self.store is not None else ":memory:"
        self._lock = threading.RLock()  # the rows in memory; sessions read under it
        self._io_lock = threading.Lock()  # one use of the store at a time
        self._frame = empty_frame()
        self._keys: set[tuple[str, str, int]] = set()
        self._next_seq = 1
        self._unsaved: list[Row] = []
        #: The newest store id read; a shared store's new rows are read after it.
        self._last_id = 0
        self._loaded = False
        self._retain()
        self._load()

    # -- reading ----------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """Return a copy of the rows held in memory, oldest first."""
        with self._lock:
            return self._frame.copy()

    def since(self, seq: int) -> tuple[pd.DataFrame, int]:
        """Return the rows added after ``seq`` and the sequence number to ask from next time."""
        with self._lock:
            last = self._next_seq - 1
            if seq >= last:
                return self._frame.iloc[0:0].copy(), last
            start = self._frame["seq"].searchsorted(seq, side="right")
            return self._frame.iloc[start:].copy(), last

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._next_seq - 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._frame)

    @property
    def persistent(self) -> bool:
        """Whether observations are written to a database."""
        return self.store is not None

    @property
    def unsaved(self) -> int:
        """How many rows wait to be written to the store."""
        with self._lock:
            return len(self._unsaved)

    # -- writing ----------------------------------------------------------------------------
    def add(self, observations: pd.DataFrame, stored: bool = False) -> pd.DataFrame:
        """Take the rows of ``observations_frame(...)`` not seen before; return them.

        ``stored`` rows were read from the store (another process polled them): they are
        not written again.
        """
        with self._lock:
            if self.provider is not None and len(observations):
                observations = observations[observations["provider"] == self.provider]
            keys = _keys(observations)
            fresh = [i for i, key in enumerate(keys) if key not in self._keys]
            self._keys.update(keys[i] for i in fresh)
            if not fresh:
                return self._frame.iloc[0:0].copy()
            rows = observations.iloc[fresh].reset_index(drop=True)
            rows.insert(0, "seq", range(self._next_seq, self._next_seq + len(rows)))
            rows["seq"] = rows["seq"].astype("int64")
            self._next_seq += len(rows)
            self._append(rows)
            if not stored:
                self._unsaved.extend(_db_rows(rows))
        if not stored:
            self.flush()
            self._retain_daily()
        return rows

    def flush(self) -> bool:
        """Write the rows the store missed; True when none are left waiting.

        The database is used outside the lock sessions read under: a slow or unreachable
        server never holds up a page.
        """
        if self.store is None:
            with self._lock:
                self._unsaved = []
            return True
        with self._io_lock:
            if self.store.lost():
                log.warning("history database %s was removed; creating it again", self.db_path)
                self.store.close()
                with self._lock:
                    self._unsaved = _db_rows(self._frame)
            with self._lock:
                pending = list(self._unsaved)
            if not pending:
                return True
            try:
                self.store.insert(pending)
            except StoreUnavailable as exc:
                self._fail(str(exc))
                with self._lock:
                    self._unsaved = self._unsaved[-self.max_rows:]
                return False
            with self._lock:
                # Rows added meanwhile were appended after the ones written.
                del self._unsaved[:len(pending)]
            self._recovered()
            return True

    def catch_up(self) -> pd.DataFrame:
        """Rows of this provider the store got from elsewhere since the last look (not taken yet).

        Pass them to ``add(rows, stored=True)``; reading again returns only newer ones.
        """
        if self.store is None:
            return _NO_ROWS.copy()
        with self._io_lock:
            try:
                if not self._loaded:
                    records = self.store.newest(self.provider, self.max_rows)
                    self._loaded = True
                else:
                    records = []
                    while True:
                        after = records[-1][0] if records else self._last_id
                        batch = self.store.after(self.provider, after, 10_000)
                        records.extend(batch)
                        if len(batch) < 10_000:
                            break
            except StoreUnavailable as exc:
                self._fail(str(exc))
                return _NO_ROWS.copy()
            if not self.unsaved:
                self._recovered()
            if records:
                self._last_id = max(self._last_id, max(r[0] for r in records))
            return _stored_frame(records)

    # -- long ranges and retention (raw rows from the store) ---------------------------------
    def rows_between(self, start=None, end=None,
                     cities: Sequence[str] | None = None) -> pd.DataFrame:
        """Stored raw rows with ``start <= time < end`` of ``cities`` (None: all), oldest first.

        Reads the store, not only the rows in memory; without a store (or when it cannot be
        read), the memory. Columns are ``raw_rows.FRAME_COLUMNS``.
        """
        start_ms, end_ms = raw_rows.to_ms(start), raw_rows.to_ms(end)
        if self.store is not None:
            try:
                # Not under _io_lock: a long range must not hold up the feed's writes, and
                # the store takes its own lock for each chunk.
                return raw_rows.one_frame(
                    self.store.rows_between(self.provider, start_ms, end_ms, cities))
            except StoreUnavailable as exc:
                self._fail(str(exc))
        with self._lock:
            frame = self._frame
        keep = pd.Series(True, index=frame.index)
        times = pd.Series(_series_ms(frame["time"]), index=frame.index)
        if start_ms is not None:
            keep &= times >= start_ms
        if end_ms is not None:
            keep &= times < end_ms
        if cities is not None:
            keep &= frame["city"].isin(list(cities))
        return frame.loc[keep, list(raw_rows.FRAME_COLUMNS)].reset_index(drop=True)

    def apply_retention(self, days: float | None = None, now_s: float | None = None) -> int:
        """Drop rows older than ``days`` (default ``retention_days``) from memory and from the
        store (every provider's); return rows deleted (from the store when there is one)."""
        days = self.retention_days if days is None else days
        if days is None:
            return 0
        now_s = time.time() if now_s is None else now_s
        cutoff_ms = int(now_s * 1000 - days * raw_rows.DAY_MS)
        with self._lock:
            old = pd.Series(_series_ms(self._frame["time"]), index=self._frame.index) < cutoff_ms
            if old.any():
                self._frame = self._frame[~old].reset_index(drop=True)
                self._keys = set(_keys(self._frame))
            self._unsaved = [r for r in self._unsaved if r[2] >= cutoff_ms]
        if self.store is None:
            return int(old.sum())
        try:
            deleted = self.store.delete_older_than(cutoff_ms)
        except StoreUnavailable as exc:
            self._fail(str(exc))
            return 0
        if deleted:
            log.info("history: retention of %g days deleted %d observations", days, deleted)
        return deleted

    def close(self) -> None:
        """Close the store; the in-memory rows stay readable."""
        with self._lock:
            if self.store is not None:
                self.store.close()

    # -- internals --------------------------------------------------------------------------
    def _append(self, rows: pd.DataFrame) -> None:
        frame = rows if self._frame.empty else pd.concat([self._frame, rows], ignore_index=True)
        # Trim in batches (10% headroom) so a full history is not copied on every poll.
        if len(frame) > self.max_rows * 1.1:
            frame = frame.iloc[-self.max_rows:].reset_index(drop=True)
            self._keys = set(_keys(frame))
        self._frame = frame

    def _load(self) -> None:
        if self.store is None:
            return
        try:
            records = self.store.newest(self.provider, self.max_rows)
        except StoreUnavailable as exc:
            self._fail(str(exc))
            return
        self._loaded = True
        if not records:
            return
        rows = _stored_frame(records)
        rows.insert(0, "seq", range(1, len(rows) + 1))
        rows["seq"] = rows["seq"].astype("int64")
        self._next_seq = len(rows) + 1
        self._last_id = max(r[0] for r in records)
        self._append(rows)
        self._keys = set(_keys(rows))
        log.info("history: loaded %d observations of %s from %s",
                 len(rows), self.provider, self.db_path)

    def _retain(self) -> None:
        if self.retention_days is not None:
            self._retained_at_s = time.monotonic()
            self.apply_retention()

    def _retain_daily(self) -> None:
        if self._retained_at_s is not None and time.monotonic() - self._retained_at_s > 86_400:
            self._retain()

    def _fail(self, what: str) -> None:
        message = f"history database {self.db_path} {what}; keeping history in memory"
        if self.db_error is None:
            log.warning(message)
        if what.startswith("unreachable"):
            self.db_error = f"history database {what}"
        else:
            self.db_error = f"history not saved: database {what}"

    def _recovered(self) -> None:
        if self.db_error is not None:
            log.warning("history database %s is usable again", self.db_path)
            self.db_error = None


def _series_ms(times: pd.Series) -> list[int]:
    return (times.astype("int64") // 1_000_000).tolist()


def _keys(rows: pd.DataFrame) -> list[tuple[str, str, int]]:
    return list(zip(rows["provider"], rows["city"], _series_ms(rows["time"]), strict=True))


def _stored_frame(records: Sequence[StoredRow]) -> pd.DataFrame:
    """History rows (without ``seq``) from a store's rows."""
    if not records:
        return _NO_ROWS.copy()
    rows = pd.DataFrame([r[1:] for r in records],
                        columns=["provider", "city", "time_ms", *COLUMNS[3:8]])
    rows["time"] = pd.to_datetime(rows["time_ms"], unit="ms", utc=True).astype(
        "datetime64[ns, UTC]")
    rows = rows.astype({c: "float64" for c in COLUMNS[3:8]})
    return rows[list(COLUMNS[1:])]


def _db_rows(rows: pd.DataFrame) -> list[Row]:
    return list(
        zip(
            rows["provider"],
            rows["city"],
            _series_ms(rows["time"]),
            rows["lat"].tolist(),
            rows["lon"].tolist(),
            rows["temperature"].tolist(),
            rows["humidity"].tolist(),
            rows["wind_speed"].tolist(),
            strict=True,
        )
    )


_NO_ROWS = empty_frame().drop(columns="seq")
