"""Backfill of 92 days of 30 cities from the fake Open-Meteo server, against its floor.

    python -m bench.backfill [--quick]

Ours: `dashboards.server.backfill.backfill` into a fresh SQLite file (one request, parse,
batched writes), and again into the same file (everything already stored). Floor: the same
single request fetched and JSON-decoded with plain `requests`, nothing parsed or written:
what any backfill of this answer costs at least. The server answers after 150 ms, like the
other benchmarks.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import requests

from bench.harness import Figure, quick_main
from dashboards.server.backfill import backfill
from testing.provider_server import ProviderServer
from weather.cities import CITIES
from weather.http import HttpClient
from weather.providers import OpenMeteoProvider
from weather.providers.open_meteo_past import past_query

DAYS = 92
N_CITIES = 30
LATENCY_S = 0.15


def _floor_s(server: ProviderServer, cities: list[str]) -> float:
    places = [CITIES[c] for c in cities]
    session = requests.Session()
    session.trust_env = False
    started = time.perf_counter()
    response = session.get(f"{server.url}/v1/forecast", params=past_query(places, DAYS),
                           timeout=300)
    response.raise_for_status()
    response.json()
    return time.perf_counter() - started


def measure(repeats: int) -> dict[str, float]:
    """Median seconds of a fresh backfill, a repeated one and the floor; rows and requests."""
    cities = list(CITIES)[:N_CITIES]
    fresh, again, floor = [], [], []
    rows = requests_per_backfill = 0
    with ProviderServer(latency_s=LATENCY_S) as server:
        provider = OpenMeteoProvider(base_url=server.url, geocoding_base_url=server.url,
                                     http=HttpClient(read_timeout_s=300))
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="bench-backfill-") as folder:
                db_path = Path(folder) / "history.sqlite3"
                before = server.count("/v1/forecast")
                started = time.perf_counter()
                result = backfill(provider, cities, DAYS, db_path)
                fresh.append(time.perf_counter() - started)
                requests_per_backfill = server.count("/v1/forecast") - before
                started = time.perf_counter()
                repeat = backfill(provider, cities, DAYS, db_path)
                again.append(time.perf_counter() - started)
                assert repeat.added == 0, "a second backfill added rows"
                with sqlite3.connect(db_path) as db:
                    rows = db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
                assert rows == result.added
            floor.append(_floor_s(server, cities))
    return {"fresh_s": statistics.median(fresh), "again_s": statistics.median(again),
            "floor_s": statistics.median(floor), "rows": rows,
            "requests": requests_per_backfill}


def run(quick: bool) -> list[Figure]:
    m = measure(1 if quick else 3)
    what = f"{DAYS} days of {N_CITIES} cities"
    return [
        Figure(f"backfill {what}: fetch, parse and store", m["fresh_s"], m["floor_s"], "s",
               f"{m['rows']:,} rows into a new SQLite file; baseline: the one request alone "
               f"(fetch + JSON decode), the floor"),
        Figure(f"backfill {what} again (all stored)", m["again_s"], m["floor_s"], "s",
               "idempotent: adds 0 rows"),
        Figure(f"backfill {what}: provider requests", m["requests"], None, "requests",
               "all cities in one request"),
    ]


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
