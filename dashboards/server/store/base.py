"""The history store interface every backend follows, and the row it stores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

#: One observation as stored: provider, city, observation time in ms since the epoch, then
#: lat, lon, temperature (°C), humidity (%), wind speed (m/s).
Row = tuple[str, str, int, float, float, float, float, float]
#: A stored row with its id first; ids grow with each insert (with gaps) in one store.
StoredRow = tuple[int, str, str, int, float, float, float, float, float]

#: Rows per chunk of a long read, and per transaction of a batch write or delete: a few
#: milliseconds of lock each, so a backfill or retention never holds up the server's writes.
BATCH_ROWS = 5_000
CHUNK_ROWS = 50_000
#: Ranges and retention select by time across cities; the unique key starts with provider.
TIME_INDEX = "observations_time_city"

#: Version of the tables below, kept in ``schema_version``; a later change migrates from it.
SCHEMA_VERSION = 1


class StoreUnavailable(Exception):
    """The store cannot be reached or used right now; the caller keeps rows and retries."""


class Located(ABC):  # noqa: B024 (no abstract method of its own: a base of the two below)
    """A database table behind a ``WEATHER_DB`` value: a file path, ``:memory:`` or a URL."""

    #: Whether several processes share it (and so one of them polls for all).
    shared = False

    def __init__(self, location: str) -> None:
        self.location = location

    @property
    def description(self) -> str:
        """Where the data goes, fit for a log line (no password)."""
        return self.location


class Store(Located):
    """Observations unique by (provider, city, time), plus the feed's shared status.

    Every read names the provider: rows of another provider in the same database (a demo
    run and a live run on one file) are never returned. Methods raise ``StoreUnavailable``
    when the database cannot be used now; the store reconnects on a later call.
    """

    @abstractmethod
    def insert(self, rows: list[Row]) -> list[int]:
        """Store the rows not stored before; return the ids of those that were new."""

    #: How this backend's driver marks a query argument.
    placeholder: ClassVar[str] = "?"

    @abstractmethod
    def _query(self, query: str, args: tuple) -> list[tuple]:
        """Run one read and return its rows; raise ``StoreUnavailable`` when it cannot."""

    def newest(self, provider: str | None, limit: int) -> list[StoredRow]:
        """The newest ``limit`` rows of ``provider`` by observation time, oldest first.

        ``provider=None`` reads every provider's rows (tools and tests, never the app).
        """
        p = self.placeholder
        where, args = provider_filter(provider, p)
        return self._query(
            f"SELECT {STORED_COLUMNS} FROM (SELECT * FROM observations WHERE {where} "
            f"ORDER BY time_ms DESC, id DESC LIMIT {p}) AS newest ORDER BY time_ms, id",
            (*args, limit))

    def after(self, provider: str | None, after_id: int, limit: int) -> list[StoredRow]:
        """Rows of ``provider`` with an id above ``after_id``, by id, at most ``limit``."""
        p = self.placeholder
        where, args = provider_filter(provider, p)
        return self._query(f"SELECT {STORED_COLUMNS} FROM observations WHERE {where} "
                           f"AND id > {p} ORDER BY id LIMIT {p}", (*args, after_id, limit))

    def rows_between(self, provider: str | None, start_ms: int | None, end_ms: int | None,
                     cities: Sequence[str] | None = None,
                     chunk_rows: int = CHUNK_ROWS) -> Iterator[list[Row]]:
        """Rows of ``provider`` with ``start_ms <= time_ms < end_ms`` (None: unbounded) of
        ``cities`` (None: all), oldest first (by time, then city), in lists of at most
        ``chunk_rows``. Each list is one short query: no read stays open between them.
        """
        p = self.placeholder

        def read(where: str, args: tuple, limit: int) -> list[Row]:
            return self._query(f"SELECT {ROW_COLUMNS} FROM observations WHERE {where} "
                               f"{RANGE_ORDER} LIMIT {p}", (*args, limit))

        return chunked(read, provider, start_ms, end_ms, cities, chunk_rows, p)

    def bucket_extremes(self, provider: str | None, start_ms: int | None,
                        end_ms: int | None, bucket_ms: int,
                        cities: Sequence[str] | None = None) -> list[tuple]:
        """Each city's readings in ``start_ms <= time_ms < end_ms`` summed up per time bucket
        of ``bucket_ms`` (counted from ``start_ms``, else from 0), computed in the database.

        One tuple per city and non-empty bucket, ordered by city then bucket: city, bucket,
        count, first and last time_ms, then the minimum, maximum and mean of each of
        ``BUCKET_QUANTITIES``.
        """
        p = self.placeholder
        where, args = range_filter(provider, start_ms, end_ms, cities, p)
        stats = ", ".join(f"min({q}), max({q}), avg({q})" for q in BUCKET_QUANTITIES)
        bucket = f"(time_ms - {p}) / {p}"
        return self._query(
            f"SELECT city, {bucket} AS bucket, count(*), min(time_ms), max(time_ms), {stats} "
            f"FROM observations WHERE {where} GROUP BY city, bucket ORDER BY city, bucket",
            (start_ms or 0, max(1, int(bucket_ms)), *args))

    def time_span(self, provider: str | None) -> tuple[int, int] | None:
        """The times of ``provider``'s oldest and newest stored rows (None: there is none)."""
        where, args = provider_filter(provider, self.placeholder)
        first, last = self._query(
            f"SELECT min(time_ms), max(time_ms) FROM observations WHERE {where}", args)[0]
        return None if first is None else (first, last)

    def count(self, provider: str | None, cities: Sequence[str] | None = None) -> int:
        """How many rows of ``provider`` are stored (of ``cities`` only, when given)."""
        where, args = range_filter(provider, None, None, cities, self.placeholder)
        return self._query(f"SELECT count(*) FROM observations WHERE {where}", args)[0][0]

    @abstractmethod
    def delete_older_than(self, cutoff_ms: int, batch_rows: int = BATCH_ROWS) -> int:
        """Delete every provider's rows older than ``cutoff_ms``, in transactions of at most
        ``batch_rows``; return how many were deleted."""

    def lost(self) -> bool:
        """Whether the database vanished since it was opened (its rows must be written again)."""
        return False

    def read_status(self, provider: str) -> dict[str, Any] | None:
        """The feed status the poller shared last, or None (not shared by this backend)."""
        return None

    def write_status(self, provider: str, status: dict[str, Any]) -> None:
        """Share the poller's feed status with every process (no-op if nothing is shared)."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Close every connection; a later call may open them again."""


def provider_filter(provider: str | None, placeholder: str) -> tuple[str, tuple]:
    """The ``WHERE`` condition and its arguments that keep only ``provider``'s rows."""
    if provider is None:
        return "TRUE", ()
    return f"provider = {placeholder}", (provider,)


def range_filter(provider: str | None, start_ms: int | None, end_ms: int | None,
                 cities: Sequence[str] | None, placeholder: str,
                 after: tuple[int, str, str] | None = None) -> tuple[str, tuple]:
    """The ``WHERE`` condition and arguments of a range read: ``provider``'s rows (None: any)
    with ``start_ms <= time_ms < end_ms`` of ``cities``, past the key ``after`` (time_ms,
    city, provider) of the previous chunk's last row."""
    where, args = provider_filter(provider, placeholder)
    clauses, values = [where], list(args)
    if start_ms is not None:
        clauses.append(f"time_ms >= {placeholder}")
        values.append(start_ms)
    if end_ms is not None:
        clauses.append(f"time_ms < {placeholder}")
        values.append(end_ms)
    if cities is not None:
        cities = list(cities)
        if not cities:
            clauses.append("FALSE")
        else:
            clauses.append(f"city IN ({', '.join([placeholder] * len(cities))})")
            values.extend(cities)
    if after is not None:
        clauses.append(f"(time_ms, city, provider) > ({placeholder}, {placeholder}, "
                       f"{placeholder})")
        values.extend(after)
    return " AND ".join(clauses), tuple(values)


#: The order of a range read; ``range_filter``'s ``after`` continues from its last row.
RANGE_ORDER = "ORDER BY time_ms, city, provider"
#: Columns of a raw ``Row``.
ROW_COLUMNS = "provider, city, time_ms, lat, lon, temperature, humidity, wind_speed"
#: The value columns a bucket summary describes, in the order of ``weather.QUANTITIES``.
BUCKET_QUANTITIES = ("temperature", "humidity", "wind_speed")
#: A stored row's columns: its id, then ``ROW_COLUMNS``.
STORED_COLUMNS = f"id, {ROW_COLUMNS}"


def chunked(read: Any, provider: str | None, start_ms: int | None, end_ms: int | None,
            cities: Sequence[str] | None, chunk_rows: int, placeholder: str
            ) -> Iterator[list[Row]]:
    """Chunks of a range read, each from ``read(where, args, limit)``, continuing by key."""
    after = None
    while True:
        where, args = range_filter(provider, start_ms, end_ms, cities, placeholder, after)
        chunk = read(where, args, chunk_rows)
        if chunk:
            yield chunk
        if len(chunk) < chunk_rows:
            return
        last = chunk[-1]
        after = (last[2], last[1], last[0])
