"""Stored observations as files (CSV, or Parquet with ``pyarrow``), with safe, telling names."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

import pandas as pd

from dashboards.server.raw_rows import rows_frame
from weather.models import Units
from weather.units import c_to_f, check_units, ms_to_mph

FORMATS = ("csv", "parquet")
#: Cities named one by one in a file name; more are counted ("12-cities").
NAMED_CITIES_MAX = 3
#: Characters of one city in a file name.
CITY_CHARS_MAX = 40
PARQUET_INSTALL = "pip install 'realtime-weather-dashboard[parquet]' (or pip install pyarrow)"


class ParquetUnavailable(RuntimeError):
    """Parquet was asked for but ``pyarrow`` is not installed."""

    def __init__(self) -> None:
        super().__init__(f"Parquet export needs pyarrow, which is not installed: "
                         f"{PARQUET_INSTALL}; or export --format csv")


def parquet_available() -> bool:
    """Whether ``pyarrow`` can be imported."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def safe_part(text: str, *, fallback: str = "city", max_chars: int = CITY_CHARS_MAX) -> str:
    """``text`` as letters, digits and single dashes only (accents folded, ASCII)."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    part = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")[:max_chars].strip("-")
    return part or fallback


def _stamp(when: datetime | pd.Timestamp | None) -> str:
    return pd.Timestamp(when).strftime("%Y-%m-%dT%H%MZ") if when is not None else ""


def export_filename(cities: Sequence[str] | None, start: datetime | pd.Timestamp | None = None,
                    end: datetime | pd.Timestamp | None = None, units: Units | str = "metric",
                    fmt: str = "csv") -> str:
    """A file name saying what an export holds, safe whatever the city names are.

    ``weather_Fresno_San-Diego_2026-11-06T0000Z-2026-12-06T0000Z_metric.csv``: up to three
    cities by name (else ``N-cities``; None is ``all-cities``), the window in UTC (``all`` when
    unbounded), the units. Only ``[A-Za-z0-9_.-]``: no markup, no path separators, no dot
    files.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if cities is None:
        who = "all-cities"
    elif len(cities) > NAMED_CITIES_MAX or not cities:
        who = f"{len(cities)}-cities"
    else:
        who = "_".join(safe_part(c) for c in cities)
    if start is None and end is None:
        window = "all"
    else:
        window = f"{_stamp(start) or 'start'}-{_stamp(end) or 'now'}"
    return f"weather_{who}_{window}_{safe_part(check_units(units), fallback='metric')}.{fmt}"


def export_frame(rows: pd.DataFrame, units: Units | str = "metric") -> pd.DataFrame:
    """Raw history rows (metric) with their units in the column names, in ``units``."""
    units = check_units(units)
    out = pd.DataFrame({"city": rows["city"].astype(str), "time": rows["time"],
                        "lat": rows["lat"], "lon": rows["lon"]})
    temperature, wind = rows["temperature"].astype("float64"), rows["wind_speed"].astype("float64")
    if units == "imperial":
        out["temperature_f"] = c_to_f(temperature)
        out["humidity_pct"] = rows["humidity"]
        out["wind_speed_mph"] = ms_to_mph(wind)
    else:
        out["temperature_c"] = temperature
        out["humidity_pct"] = rows["humidity"]
        out["wind_speed_ms"] = wind
    out["provider"] = rows["provider"].astype(str)
    return out


def write_csv(chunks: Iterable[pd.DataFrame], out: IO[str], units: Units | str = "metric") -> int:
    """Write raw row ``chunks`` as one CSV (times ISO 8601 UTC) to ``out``; return rows."""
    written = 0
    header = True
    for chunk in chunks:
        frame = export_frame(chunk, units)
        frame.to_csv(out, index=False, header=header, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        header = False
        written += len(frame)
    if header:  # nothing stored: a file with the header only
        export_frame(_empty_rows(), units).to_csv(out, index=False)
    return written


def write_parquet(chunks: Iterable[pd.DataFrame], path: str | Path,
                  units: Units | str = "metric") -> int:
    """Write raw row ``chunks`` to one Parquet file at ``path``; return rows."""
    if not parquet_available():
        raise ParquetUnavailable
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    written = 0
    try:
        for chunk in chunks:
            table = pa.Table.from_pandas(export_frame(chunk, units), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table)
            written += table.num_rows
        if writer is None:
            empty = pa.Table.from_pandas(export_frame(_empty_rows(), units), preserve_index=False)
            pq.write_table(empty, str(path))
    finally:
        if writer is not None:
            writer.close()
    return written


def export_bytes(rows: pd.DataFrame, fmt: str = "csv", units: Units | str = "metric") -> bytes:
    """One export of raw ``rows`` in memory, e.g. for a download button's callback."""
    if fmt == "parquet":
        if not parquet_available():
            raise ParquetUnavailable
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(export_frame(rows, units), preserve_index=False),
                       sink)
        return sink.getvalue()
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    text = io.StringIO()
    write_csv([rows], text, units)
    return text.getvalue().encode("utf-8")


def write_file(chunks: Iterable[pd.DataFrame], path: str | Path, fmt: str = "csv",
               units: Units | str = "metric") -> int:
    """Write an export to ``path`` whole or not at all (a temporary file, then renamed)."""
    if fmt == "parquet" and not parquet_available():
        raise ParquetUnavailable
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=".export-", suffix=f".{fmt}.part",
                                     dir=target.parent if str(target.parent) else ".")
    try:
        if fmt == "parquet":
            os.close(fd)
            written = write_parquet(chunks, temporary, units)
        else:
            with open(fd, "w", encoding="utf-8", newline="") as out:
                written = write_csv(chunks, out, units)
        # mkstemp makes the file private; give the export the usual permissions.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return written


def _empty_rows() -> pd.DataFrame:
    return rows_frame([])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
