"""Soak: a simulated week of 30-second polls through the real WeatherFeed and History.

Runs in its own low-priority process beside the counting benchmarks (``start`` / ``finish``),
so the memory figures are this process's alone and the browser timings barely feel it.
The fake Open-Meteo server (one request per poll for all cities) runs on a simulated clock
that moves 30 s before every ``poll_now()``, so every poll brings new observations. At the
end the SQLite file must hold exactly polls × cities rows, with no (city, time) twice.
The poll count is capped by time: a loaded machine reports how far it got.

    python -m bench.soak --polls 20160 --max-s 300 --out soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Figure
from dashboards.config import DEFAULT_CITIES
from dashboards.server.feed import WeatherFeed
from dashboards.server.history import History
from testing.provider_server import ProviderServer
from weather.config import ClientConfig
from weather.providers import get_provider

POLL_S = 30
WEEK_POLLS = 7 * 24 * 3600 // POLL_S  # 20,160
SAMPLE_EVERY = 250  # polls between two memory samples
SETTINGS = {"full": (WEEK_POLLS, 450.0), "quick": (1_500, 80.0)}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS missing from /proc/self/status")


def soak(polls: int, max_s: float, folder: Path) -> dict[str, object]:
    """Poll up to ``polls`` times or for ``max_s`` seconds; return what was measured."""
    clock = [float(int(time.time()) // POLL_S * POLL_S)]
    db_path = folder / "soak.sqlite3"
    samples: list[tuple[int, float]] = []
    with ProviderServer(data_period_s=POLL_S, clock=lambda: clock[0]) as server:
        config = ClientConfig.from_env({"WEATHER_PROVIDER": "open-meteo",
                                        "OPEN_METEO_BASE_URL": server.url})
        history = History(str(db_path))
        feed = WeatherFeed(get_provider(config=config), DEFAULT_CITIES, history,
                           clock=lambda: clock[0], interval_s=POLL_S)
        started = time.monotonic()
        done = requests = 0
        while done < polls and time.monotonic() - started < max_s:
            clock[0] += POLL_S
            feed.poll_now()
            done += 1
            if done == 1 or done % SAMPLE_EVERY == 0:
                # The fake server keeps a log of every request, in this same process: count
                # and empty it, so the memory figures are the feed's and history's.
                requests += server.count("/v1/forecast")
                server.reset()
                samples.append((done, rss_mib()))
        elapsed_s = time.monotonic() - started
        requests += server.count("/v1/forecast")
        samples.append((done, rss_mib()))
        accepted = history.last_seq
        history.close()
    with sqlite3.connect(db_path) as db:
        rows, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT city || '|' || time_ms) FROM observations").fetchone()
    size = sum(p.stat().st_size for p in folder.glob("soak.sqlite3*"))
    middle = min(samples, key=lambda s: abs(s[0] - done / 2))
    # History trims itself past 110% of its bound: from then on memory should stay flat.
    bound_poll = int(history.max_rows * 1.1 / len(DEFAULT_CITIES)) + 1
    bounded = [sample for sample in samples if sample[0] >= bound_poll]
    return {
        "polls": done, "target": polls, "cities": len(DEFAULT_CITIES), "requests": requests,
        "elapsed_s": elapsed_s, "rows": rows, "distinct": distinct, "accepted": accepted,
        "db_bytes": size, "rss_start": samples[0][1], "rss_middle": middle[1],
        "rss_middle_at": middle[0], "rss_end": samples[-1][1],
        "rss_bounded": bounded[0][1] if bounded else None,
        "rss_bounded_at": bounded[0][0] if bounded else None,
        "max_rows": history.max_rows,
    }


class Background:
    """The soak running in a child process at low priority."""

    def __init__(self, quick: bool) -> None:
        polls, self.max_s = SETTINGS["quick" if quick else "full"]
        self._folder = Path(tempfile.mkdtemp(prefix="bench-soak-"))
        self._out = self._folder / "soak.json"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.soak", "--polls", str(polls), "--max-s",
             str(self.max_s), "--out", str(self._out)],
            cwd=Path(__file__).resolve().parent.parent, stdin=subprocess.DEVNULL,
            preexec_fn=lambda: os.nice(10))

    def finish(self) -> list[Figure]:
        """Wait for the soak (bounded) and return its figures."""
        self._proc.wait(timeout=self.max_s + 120)
        if self._proc.returncode != 0:
            raise RuntimeError(f"the soak process exited with {self._proc.returncode}")
        return figures(json.loads(self._out.read_text()))

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)


def start(quick: bool) -> Background:
    return Background(quick)


def _growth(r: dict) -> float | None:
    start = r.get("rss_bounded")
    return None if not start else 100 * (r["rss_end"] - start) / start


def figures(r: dict) -> list[Figure]:
    expected = r["polls"] * r["cities"]
    days = r["polls"] * POLL_S / 86_400
    wrong = abs(r["rows"] - expected) + (r["rows"] - r["distinct"])
    note = "the article keeps no history"
    return [
        Figure("soak: polls of 7 cities", float(r["polls"]), None, "polls",
               f"{days:.1f} simulated days of {POLL_S}-s polls (target {r['target']:,}) in "
               f"{r['elapsed_s']:.0f} s, {1e3 * r['elapsed_s'] / max(1, r['polls']):.1f} ms per "
               f"poll at low priority; {r['requests']:,} upstream requests; {note}"),
        Figure("soak: process RSS at start", r["rss_start"], None, "MiB", "after the first poll"),
        Figure("soak: process RSS at middle", r["rss_middle"], None, "MiB",
               f"after poll {r['rss_middle_at']:,}"),
        Figure("soak: process RSS at end", r["rss_end"], None, "MiB",
               "History keeps its newest 50,000 rows in memory; the rest only in SQLite"),
        Figure("soak: RSS growth once the history is full", _growth(r), None, "%",
               (f"from poll {r['rss_bounded_at']:,} (history at its bound of "
                f"{r['max_rows']:,} rows, trimmed from then on) to the end; goal: flat"
                if r.get("rss_bounded") else "the history never reached its bound")),
        Figure("soak: history rows in SQLite", float(r["rows"]), None, "rows",
               f"expected polls × cities = {expected:,}; accepted by History: "
               f"{r['accepted']:,}"),
        Figure("soak: polls lost or duplicated", float(wrong), None, "rows",
               f"{r['rows'] - r['distinct']} duplicate (city, time); goal 0"),
        Figure("soak: database size", r["db_bytes"] / 2**20, None, "MiB",
               f"{r['db_bytes'] / max(1, r['rows']):.0f} bytes per row, with the WAL file"),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=WEEK_POLLS)
    parser.add_argument("--max-s", type=float, default=330.0)
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-soak-db-") as folder:
        result = soak(args.polls, args.max_s, Path(folder))
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
