"""Each city's lines over a window of time at screen resolution, made once and shared.

A window of weeks holds hundreds of thousands of readings; a plot shows about one point per
pixel. The database sums each city's readings up per time bucket (count, first and last time,
min, max, mean); a bucket of one reading is drawn as that reading, a larger one as its
minimum and maximum, so peaks and dips survive. The newest window of each length is kept per
process and shared read-only by its viewers, who draw the rows that came after it from the
feed's pushes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboards.server.history import History
from dashboards.server.store import StoreUnavailable
from dashboards.server.store.base import BUCKET_QUANTITIES
from weather.models import QUANTITIES

log = logging.getLogger(__name__)

#: Windows a viewer can choose, in seconds back from now (None: everything stored).
WINDOWS_S: dict[str, float | None] = {
    "1 h": 3600.0,
    "6 h": 6 * 3600.0,
    "24 h": 24 * 3600.0,
    "7 days": 7 * 86_400.0,
    "30 days": 30 * 86_400.0,
    "All": None,
}
#: Time buckets across a plot: each draws at most two points, so a line has at most
#: twice as many points, about one per pixel of a wide plot.
BUCKETS = 750
#: A shared window is made again once its viewers would draw this many newer rows per city
#: from pushes on top of it, or once it is this old (rows backfilled meanwhile show then).
STALE_AFTER_ROWS_PER_CITY = 200
STALE_AFTER_S = 60.0

_EPOCH = pd.Timestamp(0, tz="UTC")

#: One line: times (ms since the epoch, UTC) and values, oldest first.
Line = tuple[np.ndarray, np.ndarray]


@dataclass(eq=False)
class Overview:
    """Every city's lines over ``start_ms..end_ms`` (metric), and the history row it runs to.

    ``lines[quantity][city]`` is one line. Rows of the history after ``last_seq`` are not in
    it. Shared by every viewer: read it, never change it.
    """

    start_ms: float | None
    end_ms: float
    last_seq: int
    lines: dict[str, dict[str, Line]]
    #: Width of one time bucket (ms); readings closer than this may be summed up.
    bucket_ms: float
    _derived: dict[Hashable, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def derived(self, key: Hashable, make: Callable[[Overview], Any]) -> Any:
        """``make(self)``, computed by the first viewer that asks for ``key`` only."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = make(self)
            return self._derived[key]

    def points(self) -> int:
        """How many points the longest line holds."""
        return max((len(t) for by_city in self.lines.values() for t, _ in by_city.values()),
                   default=0)


def summarize(history: History, start_ms: float | None, end_ms: float,
              buckets: int = BUCKETS, cities: Sequence[str] | None = None) -> Overview:
    """The lines of ``history`` over ``start_ms..end_ms`` (None: from its first reading).

    Read from the store (summed up in the database), or from memory when there is no store
    or it cannot be read. Takes a few hundred milliseconds for a month of 30-second polls:
    call it off the server's event loop.
    """
    last_seq = history.last_seq
    end_ms = float(end_ms)
    rows = None
    if history.store is not None:
        try:
            first_ms, last_ms = ((start_ms, end_ms) if start_ms is not None
                                 else _time_span(history, end_ms))
            bucket_ms = _bucket_ms(first_ms, last_ms, buckets)
            rows = history.store.bucket_extremes(
                history.provider, int(first_ms), int(end_ms) + 1, bucket_ms, cities)
            lines = _lines_from_buckets(rows)
        except StoreUnavailable as exc:
            log.warning("overview: the store cannot be read (%s); drawing from memory", exc)
            rows = None
    if rows is None:
        frame = history.frame()
        if cities is not None:
            frame = frame.loc[frame["city"].isin(list(cities))]
        times = _times_ms(frame["time"])
        keep = times <= end_ms
        if start_ms is not None:
            keep &= times >= start_ms
        frame, times = frame.loc[keep], times[keep]
        first_ms, last_ms = ((start_ms, end_ms) if start_ms is not None else
                             (times.min(), times.max()) if len(times) else (end_ms, end_ms))
        bucket_ms = _bucket_ms(first_ms, last_ms, buckets)
        lines = _lines_from_frame(frame, times, first_ms, bucket_ms)
    return Overview(start_ms=start_ms, end_ms=end_ms, last_seq=last_seq, lines=lines,
                    bucket_ms=bucket_ms)


class OverviewCache:
    """The newest overview of each window for this process's viewers, made once each.

    ``get`` returns at once whenever a window was made before; a stale one is made again in
    the background meanwhile (its viewers draw the newer rows from pushes).
    """

    def __init__(self, history: History, clock: Callable[[], float] = time.time,
                 cities_count: int = 1) -> None:
        self.history = history
        self._clock = clock
        #: Rows newer than an overview after which it is made again.
        self.stale_rows = STALE_AFTER_ROWS_PER_CITY * max(1, cities_count)
        self._lock = threading.Lock()
        self._made: dict[str, tuple[Overview, float]] = {}
        self._making: dict[str, Future] = {}
        #: Threads for database reads of overviews and of viewers' zoomed ranges.
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="overview")

    def get(self, window: str) -> Overview:
        """The overview of ``window`` (a key of ``WINDOWS_S``), made now if there is none."""
        with self._lock:
            made, made_at = self._made.get(window, (None, 0.0))
            if made is not None:
                stale = (self.history.last_seq - made.last_seq > self.stale_rows
                         or self._clock() - made_at > STALE_AFTER_S)
                if stale and window not in self._making:
                    self._making[window] = self.executor.submit(self._make, window)
                return made
            future = self._making.get(window)
            if future is None:
                future = self._making[window] = self.executor.submit(self._make, window)
        return future.result()

    def warm(self, windows: Sequence[str] = ("All", *WINDOWS_S)) -> None:
        """Make ``windows`` in the background, so the first viewer (and the first switch to
        each) finds them made: the default page first."""
        with self._lock:
            for window in windows:
                if window not in self._made and window not in self._making:
                    self._making[window] = self.executor.submit(self._make, window)

    def forget(self) -> None:
        """Drop every overview (the history changed under it: a backfill, a retention)."""
        with self._lock:
            self._made.clear()

    def _make(self, window: str) -> Overview:
        try:
            span_s = WINDOWS_S[window]
            # A window ends at the newest reading, as the plots' time axis does.
            _, end_ms = _time_span(self.history, self._clock() * 1000)
            start_ms = end_ms - span_s * 1000 if span_s else None
            overview = summarize(self.history, start_ms, end_ms)
            with self._lock:
                self._made[window] = (overview, self._clock())
            return overview
        finally:
            with self._lock:
                self._making.pop(window, None)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _time_span(history: History, end_ms: float) -> tuple[float, float]:
    """The oldest and newest readings' times up to ``end_ms``, stored or in memory."""
    frame = history.frame()
    times = _times_ms(frame["time"]) if len(frame) else np.array([])
    spans = [(times.min(), times.max())] if len(times) else []
    stored = history.store.time_span(history.provider) if history.store is not None else None
    if stored is not None:
        spans.append(stored)
    if not spans:
        return end_ms, end_ms
    return float(min(s[0] for s in spans)), min(end_ms, float(max(s[1] for s in spans)))


def _times_ms(times: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(times, utc=True)
    return ((stamps - _EPOCH) / pd.Timedelta(milliseconds=1)).to_numpy(dtype="float64")


def _bucket_ms(first_ms: float, end_ms: float, buckets: int) -> int:
    return max(1, int(np.ceil((end_ms - first_ms + 1) / buckets)))


def _lines_from_buckets(rows: list[tuple]) -> dict[str, dict[str, Line]]:
    """Lines from ``Store.bucket_extremes`` rows (ordered by city, then bucket)."""
    lines: dict[str, dict[str, Line]] = {q: {} for q in QUANTITIES}
    if not rows:
        return lines
    table = np.array([r[2:] for r in rows], dtype="float64")
    cities = np.array([r[0] for r in rows], dtype=object)
    counts, first, last = table[:, 0], table[:, 1], table[:, 2]
    for i in range(len(BUCKET_QUANTITIES)):
        low, high, mean = (table[:, 3 + 3 * i + k] for k in range(3))
        for city in dict.fromkeys(cities):
            at = cities == city
            lines[QUANTITIES[i]][city] = _extremes_line(
                counts[at], first[at], last[at], low[at], high[at], mean[at])
    return lines


def _lines_from_frame(frame: pd.DataFrame, times: np.ndarray, first_ms: float,
                      bucket_ms: float) -> dict[str, dict[str, Line]]:
    """The same lines as ``_lines_from_buckets``, summed up from rows in memory."""
    lines: dict[str, dict[str, Line]] = {q: {} for q in QUANTITIES}
    if not len(frame):
        return lines
    data = pd.DataFrame({"city": frame["city"].to_numpy(), "t": times,
                         "bucket": ((times - first_ms) // bucket_ms).astype("int64"),
                         **{q: frame[q].to_numpy(dtype="float64") for q in QUANTITIES}})
    grouped = data.sort_values(["city", "t"], kind="stable").groupby(["city", "bucket"],
                                                                    sort=True)
    t = grouped["t"].agg(["count", "min", "max"])
    for quantity in QUANTITIES:
        v = grouped[quantity].agg(["min", "max", "mean"])
        for city in t.index.get_level_values(0).unique():
            tc, vc = t.loc[city], v.loc[city]
            lines[quantity][city] = _extremes_line(
                tc["count"].to_numpy(float), tc["min"].to_numpy(float),
                tc["max"].to_numpy(float), vc["min"].to_numpy(float),
                vc["max"].to_numpy(float), vc["mean"].to_numpy(float))
    return lines


def _extremes_line(counts: np.ndarray, first: np.ndarray, last: np.ndarray, low: np.ndarray,
                   high: np.ndarray, mean: np.ndarray) -> Line:
    """One city's line from its buckets, oldest first.

    A bucket of one reading is that reading; a larger one is its minimum and maximum at its
    first and last times, the one nearer the previous bucket first, so a steady line stays
    a line and a spike stays a spike.
    """
    valid = ~np.isnan(low)
    counts, first, last, low, high, mean = (a[valid] for a in (counts, first, last, low,
                                                               high, mean))
    single = (counts <= 1) | (first == last) | (low == high)
    previous = np.r_[mean[:1], mean[:-1]]
    high_first = np.abs(high - previous) < np.abs(low - previous)
    a_value = np.where(single, np.where(np.isnan(mean), low, mean), np.where(high_first, high, low))
    b_value = np.where(high_first, low, high)
    times = np.column_stack([first, last]).ravel()
    values = np.column_stack([a_value, b_value]).ravel()
    keep = np.column_stack([np.ones_like(single), ~single]).ravel()
    return times[keep], values[keep]
