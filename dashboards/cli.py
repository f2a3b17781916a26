"""`weather-dashboard`: serve the dashboard (the default), backfill its history, or export it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from dashboards.config import AppConfig, is_postgres, parse_cities
from weather.errors import ConfigError, WeatherError
from weather.providers.base import PAST_DAYS_MAX

APP = Path(__file__).with_name("app.py")
#: Run by `panel serve --setup` in each process as it starts: the feed polls with no viewer.
ON_START = Path(__file__).parent / "server" / "on_start.py"
PROG = "weather-dashboard"
USAGE = f"""usage: {PROG} [serve] [PANEL SERVE OPTIONS ...]
       {PROG} backfill --days N [--cities "A;B"]
       {PROG} export [--format csv|parquet] [--output FILE] [--cities CITY ...] [--since WHEN]

  serve     serve the dashboard with `panel serve` (the default: `{PROG} --port 5007`)
  backfill  fill the history with the provider's past observations (1..{PAST_DAYS_MAX} days)
  export    write the whole stored history (raw rows) as CSV or Parquet

Settings come from the environment (WEATHER_PROVIDER, WEATHER_CITIES, WEATHER_DB, ...).
`{PROG} backfill --help` and `{PROG} export --help` list their options."""


def fail(message: str, code: int = 2) -> int:
    """Print one line on stderr and return ``code``."""
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; anything else (the bare command too) is handed to `panel serve`."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] in (["-h"], ["--help"], ["help"]):
        print(USAGE)
        return 0
    if args[:1] == ["backfill"]:
        return backfill_main(args[1:])
    if args[:1] == ["export"]:
        return export_main(args[1:])
    if args[:1] == ["serve"]:
        args = args[1:]
    return serve(args)


def serve(args: list[str]) -> int:
    """Check the settings, then hand over to `panel serve` with ``args``."""
    try:
        AppConfig.from_env()
    except ConfigError as exc:
        return fail(str(exc))
    from panel.command import main as panel_main

    # `panel serve` reads its arguments from sys.argv.
    sys.argv = ["panel", "serve", str(APP), "--setup", str(ON_START), *args]
    panel_main()
    return 0


# -- backfill ----------------------------------------------------------------------------------
def _backfill_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} backfill",
        description="Fill the history (WEATHER_DB) with the provider's past observations: "
                    "Open-Meteo's hourly past, or the demo simulation every WEATHER_INTERVAL. "
                    "Rows already stored are skipped, so running it twice adds nothing.")
    parser.add_argument("--days", required=True,
                        help=f"days before now to fill, 1 to {PAST_DAYS_MAX}")
    parser.add_argument("--cities", help="city names separated by ';' (default: WEATHER_CITIES)")
    return parser


def _days(text: str) -> int | None:
    """``--days`` as an int from 1 to ``PAST_DAYS_MAX``, or None."""
    try:
        days = int(text.strip())
    except ValueError:
        return None
    return days if 1 <= days <= PAST_DAYS_MAX else None


def backfill_main(args: list[str]) -> int:
    """`weather-dashboard backfill --days N`: fetch, then write in batches with a progress bar."""
    options = _backfill_parser().parse_args(args)
    days = _days(options.days)
    if days is None:
        return fail(f"backfill --days must be a whole number from 1 to {PAST_DAYS_MAX}, "
                    f"got {options.days!r}")
    from dashboards.progress import ProgressBar
    from dashboards.server.backfill import backfill
    from dashboards.server.store import StoreUnavailable, open_store
    from weather.http import HttpClient
    from weather.providers import get_provider

    try:
        config = AppConfig.from_env()
        cities = config.cities if options.cities is None else parse_cities(options.cities)
        # One answer holds up to 92 days of every city: give it more time than a poll.
        provider = get_provider(config=config.client, http=HttpClient(read_timeout_s=120))
    except ConfigError as exc:
        return fail(str(exc))
    if config.db_path == ":memory:":
        return fail("WEATHER_DB is ':memory:', a history kept by no file: there is nothing "
                    "to backfill into")
    try:
        store = open_store(config.db_path, busy_timeout_s=30.0)
    except ConfigError as exc:
        return fail(str(exc))
    assert store is not None  # ':memory:' was refused above
    print(f"backfill: {days} days of {len(cities)} cities from {provider.name} "
          f"into {store.description}", file=sys.stderr)
    bar = ProgressBar("backfill")
    try:
        result = backfill(provider, cities, days, store, step_s=config.interval_s,
                          progress=bar)
    except ConfigError as exc:
        return fail(str(exc))
    except WeatherError as exc:
        return fail(f"backfill failed, nothing was written: {exc}", 1)
    except (StoreUnavailable, OSError) as exc:
        return fail(f"backfill could not write {store.description} ({exc}); rows written so "
                    f"far are whole, and running it again adds the rest", 1)
    except KeyboardInterrupt:
        bar.close()
        return fail("backfill interrupted; the rows written so far are whole batches, and "
                    "running it again adds the rest", 130)
    finally:
        bar.close()
        store.close()
    print(f"backfill: {result.fetched:,} observations, {result.added:,} new, "
          f"{result.fetched - result.added:,} already stored", file=sys.stderr)
    return 0


# -- export ------------------------------------------------------------------------------------
def _export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} export",
        description="Write the stored history (WEATHER_DB) as raw rows, oldest first, with "
                    "the units in the column names.")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv",
                        help="csv (default) or parquet (needs pyarrow: the 'parquet' extra)")
    parser.add_argument("--output", "-o",
                        help="file to write, '-' for stdout (CSV only); default: a name "
                             "saying what it holds, in the current folder")
    parser.add_argument("--cities", nargs="+", metavar="CITY",
                        help="only these cities (names, or one ';'-separated list)")
    parser.add_argument("--since",
                        help="only rows from this time on: 2026-11-01, 2026-11-01T06:00 "
                             "(UTC unless an offset is given), or an age such as 30d, 12h")
    parser.add_argument("--units", choices=("metric", "imperial"), default="metric",
                        help="metric (°C, m/s; default) or imperial (°F, mph)")
    return parser


def _since(text: str) -> pd.Timestamp | None:
    """``--since`` as a UTC time, or None when it cannot be read."""
    value = text.strip()
    try:
        if value[-1:] in ("d", "h", "m") and value[:-1].replace(".", "", 1).isdigit():
            return pd.Timestamp.now(tz="UTC") - pd.Timedelta(float(value[:-1]), unit=value[-1])
        stamp = pd.Timestamp(value)
    except (ValueError, OverflowError):
        stamp = None
    if stamp is None or pd.isna(stamp):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def export_main(args: list[str]) -> int:
    """`weather-dashboard export`: the stored rows to a file, whole or not at all."""
    options = _export_parser().parse_args(args)
    since = None if options.since is None else _since(options.since)
    if options.since is not None and since is None:
        return fail(f"export --since must be a date, a time (ISO 8601) or an age like 30d or "
                    f"12h, got {options.since!r}")
    from dashboards.server import export, raw_rows
    from dashboards.server.store import StoreUnavailable, open_store

    try:
        config = AppConfig.from_env()
    except ConfigError as exc:
        return fail(str(exc))
    cities = None
    if options.cities:
        cities = list(dict.fromkeys(c.strip() for item in options.cities
                                    for c in item.split(";") if c.strip()))
    if options.format == "parquet" and not export.parquet_available():
        return fail(str(export.ParquetUnavailable()))
    if options.output == "-" and options.format != "csv":
        return fail("Parquet cannot go to stdout; give --output FILE")
    db_path = config.db_path
    if db_path == ":memory:" or not (is_postgres(db_path) or Path(db_path).is_file()):
        return fail(f"no history to export: {db_path} is not a file (WEATHER_DB)")
    output = options.output or export.export_filename(cities, since, None,
                                                       options.units, options.format)
    try:
        store = open_store(db_path)
    except ConfigError as exc:
        return fail(str(exc))
    assert store is not None  # ':memory:' was refused above
    try:
        # The running provider's rows only: a demo history beside a live one stays out.
        chunks = raw_rows.frames(store.rows_between(config.provider, raw_rows.to_ms(since),
                                                    None, cities))
        if output == "-":
            written = export.write_csv(chunks, sys.stdout, options.units)
        else:
            written = export.write_file(chunks, output, options.format, options.units)
    except ConfigError as exc:  # a PostgreSQL setting found wrong on first use
        return fail(str(exc))
    except (StoreUnavailable, OSError) as exc:
        return fail(f"export failed, nothing was written ({exc})", 1)
    finally:
        store.close()
    if output != "-":
        print(f"export: {written:,} rows to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
