"""Fill the history with a provider's past observations, in short batches beside the server."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dashboards.server import raw_rows
from dashboards.server.store import Store, open_store
from weather.errors import ConfigError
from weather.providers.base import Provider, check_past_days

log = logging.getLogger(__name__)

#: Seconds a batch write waits for the server's transaction on a SQLite file.
WRITE_WAIT_S = 30.0


@dataclass(frozen=True)
class BackfillResult:
    """What a backfill did: observations the provider gave, and rows that were new."""

    fetched: int
    added: int


def backfill(provider: Provider, cities: Sequence[str], days: int, db: str | Path | Store, *,
             step_s: float = 30.0, now_s: float | None = None,
             batch_rows: int = raw_rows.BATCH_ROWS,
             progress: Callable[[int, int], None] | None = None) -> BackfillResult:
    """Store the ``days`` (1..92) before now of ``cities`` from ``provider`` in ``db``.

    ``db`` is a ``WEATHER_DB`` value (a SQLite path or a PostgreSQL URL) or an open store.
    Everything is asked first (one request for Open-Meteo), so a provider error raises
    ``WeatherError`` before a row is written. Rows go in transactions of ``batch_rows`` and
    rows already stored are skipped: a second run adds nothing. ``progress(done, total)`` is
    called after each batch; ``step_s`` is the demo provider's spacing (the poll interval).
    A store that cannot be written raises ``StoreUnavailable``.
    """
    days = check_past_days(days)
    if str(db) == ":memory:":
        raise ConfigError("WEATHER_DB", "is ':memory:', a history kept by no file: there is "
                          "nothing to backfill into")
    past = provider.past(list(cities), days, step_s=step_s, now_s=now_s)
    total = len(past) if hasattr(past, "__len__") else 0
    store = db if isinstance(db, Store) else open_store(str(db), busy_timeout_s=WRITE_WAIT_S)
    assert store is not None  # ':memory:' was refused above
    fetched = added = 0
    try:
        if progress:
            progress(0, total)
        for batch in raw_rows.batches(past, batch_rows):
            added += len(store.insert(batch))
            fetched += len(batch)
            if progress:
                progress(fetched, max(total, fetched))
    finally:
        if store is not db:
            store.close()
    log.info("backfill: %d days of %d cities from %s: %d observations, %d new",
             days, len(cities), provider.name, fetched, added)
    return BackfillResult(fetched, added)
