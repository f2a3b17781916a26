"""Raw history rows outside the store: from observations, in batches, and as frames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import pandas as pd

from dashboards.server.store.base import BATCH_ROWS, Row
from weather.models import Observation

#: Columns of a raw ``Row``, in its order; quantities are metric (°C, %, m/s).
ROW_COLUMNS = ("provider", "city", "time_ms", "lat", "lon", "temperature", "humidity",
               "wind_speed")
#: Columns of a raw rows frame: ``time`` (UTC) in place of ``time_ms``, provider last.
FRAME_COLUMNS = ("city", "time", "lat", "lon", "temperature", "humidity", "wind_speed",
                 "provider")
DAY_MS = 86_400_000


def observation_row(o: Observation) -> Row:
    """The stored row of one observation."""
    return (o.provider, o.city, int(o.time.timestamp() * 1000), o.lat, o.lon, o.temperature_c,
            o.humidity_pct, o.wind_speed_ms)


def batches(observations: Iterable[Observation], size: int = BATCH_ROWS) -> Iterator[list[Row]]:
    """Rows of ``observations`` in lists of at most ``size``."""
    batch: list[Row] = []
    for o in observations:
        batch.append(observation_row(o))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def to_ms(when: pd.Timestamp | str | float | None) -> int | None:
    """Milliseconds since the epoch of a time (naive means UTC), or None."""
    if when is None:
        return None
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // 1_000_000)


def rows_frame(records: Sequence[Row]) -> pd.DataFrame:
    """Raw rows as a frame of ``FRAME_COLUMNS``: ``time`` is UTC, values metric."""
    frame = pd.DataFrame.from_records(list(records), columns=list(ROW_COLUMNS))
    frame["time"] = pd.to_datetime(frame["time_ms"], unit="ms", utc=True).astype(
        "datetime64[ns, UTC]")
    for column in ("lat", "lon", "temperature", "humidity", "wind_speed"):
        frame[column] = frame[column].astype("float64")
    for column in ("city", "provider"):
        frame[column] = frame[column].astype(object)
    return frame[list(FRAME_COLUMNS)]


def frames(chunks: Iterable[Sequence[Row]]) -> Iterator[pd.DataFrame]:
    """Each chunk of a store's ``rows_between`` as a frame (for an export, chunk by chunk)."""
    for chunk in chunks:
        yield rows_frame(chunk)


def one_frame(chunks: Iterable[Sequence[Row]]) -> pd.DataFrame:
    """Every chunk in one frame; no chunk gives an empty frame with the columns."""
    parts = list(frames(chunks))
    return pd.concat(parts, ignore_index=True) if parts else rows_frame([])
