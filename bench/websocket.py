"""Websocket bytes one browser session receives per streaming update, with long and short lines.

Ours is served twice: from a history database pre-filled with 1,000 observations per city
(7,000 rows, 30 s apart), so each line of its plots holds 1,000 points, and from an empty
one. The article keeps no history: its lines grow by one point per poll of its own session
(up to its ``backlog`` of 1,000), so within a run it only has a few points; polling it
faster to fill them does not work either (its updates stop reaching the page when it polls
every 50 ms). All three poll every 2 s and are measured over the same window, side by side.
Bytes per update = all bytes the page received over the window / the polls the provider saw
in it (ours: one request per city per poll; the article: one per poll). The window starts
once ours at 1,000 points has drawn its lines and received one update (that first update is
reported on its own) and the other two pages show a few points.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.apps import KEY, LATENCY_S, serve, start_all, stop_all
from bench.browser import Browser, wait_for
from bench.harness import Figure, quick_main
from dashboards.config import DEFAULT_CITIES
from dashboards.server.history import History
from testing.provider_server import ProviderServer
from weather.cities import CITIES
from weather.providers.demo import simulate

POINTS = 1_000
STEP_S = 30
INTERVAL_S = 2.0
#: Points per line the page must show before the window starts (the article's first polls).
FEW_POINTS = 2


def prefill(db_path: str, cities: tuple[str, ...] = DEFAULT_CITIES, points: int = POINTS) -> int:
    """Write ``points`` observations per city, ending a minute ago, into a history database."""
    end = int(time.time()) - 60
    times = [end - STEP_S * i for i in range(points)][::-1]
    rows = []
    for name in cities:
        place = CITIES[name]
        for t in times:
            temperature, humidity, wind = simulate(place, t)
            rows.append((name, t, place.lat, place.lon, temperature, humidity, wind))
    frame = pd.DataFrame(rows, columns=["city", "t", "lat", "lon", "temperature", "humidity",
                                        "wind_speed"])
    frame.insert(1, "time", pd.to_datetime(frame.pop("t"), unit="s", utc=True)
                 .astype("datetime64[ns, UTC]"))
    frame["provider"] = "openweather"
    history = History(db_path, max_rows=len(frame))
    try:
        return len(history.add(frame))
    finally:
        history.close()


def run(quick: bool) -> list[Figure]:
    window_s = 10.0 if quick else 16.0
    db_path = str(Path(tempfile.mkdtemp(prefix="bench-ws-")) / "history.sqlite3")
    prefilled = prefill(db_path)
    cases = {"long": ("ours", db_path), "short": ("ours", ":memory:"),
             "article": ("article", ":memory:")}
    providers = {c: ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) for c in cases}
    for provider in providers.values():
        provider.start()
    try:
        apps = {c: serve(d, providers[c].url, interval_s=INTERVAL_S, db_path=db)
                for c, (d, db) in cases.items()}
        start_all(list(apps.values()))
        try:
            with Browser() as browser:
                views = {c: browser.view(apps[c].url) for c in cases}
                for view in views.values():
                    view.go()
                long = views["long"]
                wait_for(long, lambda: long.line_rows() >= POINTS, 90.0)
                first_view = long.meter.snapshot().bytes_received
                # The first update after the page is drawn is measured on its own.
                drawn_rows, drawn_at = long.line_rows(), long.meter.snapshot()
                wait_for(long, lambda: long.line_rows() > drawn_rows, 30.0)
                first_update = long.meter.since(drawn_at).bytes_received
                # The other two pages loaded meanwhile; the article's first points come late.
                wait_for(long, lambda: all(views[c].line_rows() >= FEW_POINTS
                                           for c in ("short", "article")), 30.0)
                long.page.wait_for_timeout(1000)
                rows = {c: views[c].line_rows() for c in cases}
                before = {c: (views[c].meter.snapshot(), providers[c].count()) for c in cases}
                long.page.wait_for_timeout(window_s * 1000)
                per_poll: dict[str, float | None] = {}
                polls: dict[str, int] = {}
                for c, (design, _db) in cases.items():
                    received = views[c].meter.since(before[c][0]).bytes_received
                    polls[c] = (providers[c].count() - before[c][1]) // (
                        len(DEFAULT_CITIES) if design == "ours" else 1)
                    per_poll[c] = received / polls[c] if polls[c] else None
        finally:
            stop_all(list(apps.values()))
    finally:
        for provider in providers.values():
            provider.stop()
    return [
        Figure("websocket bytes per update per session, 1,000 points per line",
               per_poll["long"], None, "bytes",
               f"ours: {prefilled:,} rows pre-filled (1,000 per city, 7 cities per plot), "
               f"{rows['long']:,} points in its fullest plot, {polls['long']} polls over "
               f"{window_s:g} s; the article cannot be brought to 1,000 points in a run; "
               "goal: proportional to the new rows, as with a few points"),
        Figure("websocket bytes per update per session, a few points per line",
               per_poll["short"], per_poll["article"], "bytes",
               f"empty history at start: {rows['short']} / {rows['article']} points, "
               f"{polls['short']} / {polls['article']} polls over {window_s:g} s; ours draws "
               "7 cities per plot, the article 1; ours includes its status line"),
        Figure("websocket bytes of the first page view, 1,000 points per line", first_view,
               None, "bytes", "ours, everything received until its lines held 1,000 points"),
        Figure("websocket bytes of the first update after that, 1,000 points per line",
               first_update, None, "bytes",
               "ours, from the drawn page to its lines' first new point; the window above "
               "starts after it"),
    ]


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
