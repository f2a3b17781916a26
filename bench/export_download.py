"""A viewer's download of one million stored rows (the Real Time tab's export), against its floor.

    python -m bench.export_download [--quick]

Ours: the download button's click (`ExportDownload`) making a CSV, then a Parquet file, of
1,000,006 rows (7 cities, 142,858 polls 30 s apart: 50 days) from a SQLite history, in a
worker thread, while an asyncio loop ticks every 10 ms beside it as the server's loop would:
its longest stall is what the other viewers of the process wait at worst. Floor: the same
rows read with plain `sqlite3` in one query, nothing converted or written; and the loop's
longest stall with nothing else running. Not measured here: sending the file to the browser
(Panel sends it base64-encoded over the websocket).
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bench.harness import Figure, quick_main
from dashboards.server import export
from dashboards.server.history import History
from dashboards.server.store import open_store
from dashboards.views.realtime.export import ExportDownload
from dashboards.views.settings import ViewerSettings

N_CITIES = 7
POLLS = 142_858
POLL_MS = 30_000
TICK_S = 0.01
PROVIDER = "demo"


def _fill(db_path: Path) -> list[str]:
    """Store the rows; return the cities."""
    cities = [f"City {i}" for i in range(N_CITIES)]
    store = open_store(str(db_path))
    t0_ms = int(time.time() * 1000) - POLLS * POLL_MS
    batch = []
    for poll in range(POLLS):
        for i, city in enumerate(cities):
            batch.append((PROVIDER, city, t0_ms + poll * POLL_MS, 36.0 + i, -119.0 - i,
                          10.0 + i + poll % 100 / 10, 50.0, 3.0))
        if len(batch) >= 50_000:
            store.insert(batch)
            batch = []
    if batch:
        store.insert(batch)
    store.close()
    return cities


async def _click(view: ExportDownload) -> tuple[float, float, int]:
    """Seconds from click to file, the loop's longest stall meanwhile, and the file's bytes."""
    stalls: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(TICK_S)
            stalls.append(time.perf_counter() - started - TICK_S)

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    made = await view._on_click()
    seconds = time.perf_counter() - started
    done.set()
    await ticker
    return seconds, max(stalls), len(made.getvalue())


async def _idle_stall(seconds: float) -> float:
    stalls = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        await asyncio.sleep(TICK_S)
        stalls.append(time.perf_counter() - started - TICK_S)
    return max(stalls)


def _floor_s(db_path: Path) -> float:
    started = time.perf_counter()
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT provider, city, time_ms, lat, lon, temperature, humidity, "
                          "wind_speed FROM observations ORDER BY time_ms, city").fetchall()
    assert len(rows) == N_CITIES * POLLS
    return time.perf_counter() - started


def measure(repeats: int) -> dict[str, float]:
    """Medians of each format's click and loop stall, the floor read and the idle stall."""
    out: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        db_path = Path(folder) / "history.sqlite3"
        cities = _fill(db_path)
        history = History(str(db_path), provider=PROVIDER)
        formats = ["csv", "parquet"] if export.parquet_available() else ["csv"]
        for _ in range(repeats):
            for fmt in formats:
                view = ExportDownload(history=history, settings=ViewerSettings(units="metric"),
                                      cities=cities, fmt=fmt)
                seconds, stall, size = asyncio.run(_click(view))
                out.setdefault(f"{fmt}_s", []).append(seconds)
                out.setdefault(f"{fmt}_stall_s", []).append(stall)
                out.setdefault(f"{fmt}_bytes", []).append(size)
            out.setdefault("floor_s", []).append(_floor_s(db_path))
            out.setdefault("idle_stall_s", []).append(asyncio.run(_idle_stall(2.0)))
        history.close()
    return {key: statistics.median(values) for key, values in out.items()}


def run(quick: bool) -> list[Figure]:
    m = measure(1 if quick else 3)
    rows = f"{N_CITIES * POLLS:,} rows"
    figures = []
    for fmt in ("csv", "parquet"):
        if f"{fmt}_s" not in m:
            continue
        figures += [
            Figure(f"export {rows} as {fmt.upper()}: click to file", m[f"{fmt}_s"],
                   m["floor_s"], "s",
                   f"{m[f'{fmt}_bytes'] / 1e6:.1f} MB; baseline: the rows read with sqlite3 "
                   f"alone, the floor"),
            Figure(f"export {rows} as {fmt.upper()}: longest event-loop stall",
                   m[f"{fmt}_stall_s"] * 1000, m["idle_stall_s"] * 1000, "ms",
                   "what other viewers wait at worst; baseline: the idle loop's"),
        ]
    return figures


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
