"""Upstream requests per poll interval with 1, 4 and 8 viewers open: ours vs the article.

Both designs run side by side, each with its own fake provider so requests are counted per
design, both polling every 2 s. Viewers are sessions held open over Bokeh's websocket
(``bench.sessions``): a poll loop belongs to the server or to the session, not to the
browser, so rendering would change nothing here. Counts are normalised to polls of the city
set per interval: ours asks for every city (one request each) per poll; the article's
sessions each ask for the first city only.
"""

from __future__ import annotations

import threading
import time

from bench.apps import KEY, LATENCY_S, serve, start_all, stop_all
from bench.harness import Figure, quick_main
from bench.sessions import Sessions
from dashboards.config import DEFAULT_CITIES
from testing.provider_server import ProviderServer

INTERVAL_S = 2.0
VIEWERS = (1, 4, 8)
#: Time for new viewers' own page-load requests to finish before counting.
SETTLE_S = 4.0
#: Most time spent opening one step's sessions (a slow server then counts fewer viewers).
OPEN_BUDGET_S = 60.0
REQUESTS_PER_POLL = {"ours": len(DEFAULT_CITIES), "article": 1}
DESIGNS = ("ours", "article")


def _open_to(holders: dict[str, Sessions], n: int) -> dict[str, int]:
    """Bring every design to ``n`` open sessions, the designs side by side."""
    opened: dict[str, int] = {}

    def open_more(design: str) -> None:
        holder = holders[design]
        holder.open(n - holder.count, OPEN_BUDGET_S)
        opened[design] = holder.count

    threads = [threading.Thread(target=open_more, args=(d,), daemon=True) for d in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300.0)
    return opened


def run(quick: bool) -> list[Figure]:
    window_s = 8.0 if quick else 12.0
    providers = {d: ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) for d in DESIGNS}
    rates: dict[str, dict[int, float]] = {d: {} for d in DESIGNS}
    open_counts: dict[int, dict[str, int]] = {}
    for provider in providers.values():
        provider.start()
    try:
        apps = {d: serve(d, providers[d].url, interval_s=INTERVAL_S) for d in DESIGNS}
        start_all(list(apps.values()))
        holders = {d: Sessions(apps[d].url) for d in DESIGNS}
        try:
            for n in VIEWERS:
                open_counts[n] = _open_to(holders, n)
                time.sleep(SETTLE_S)
                before = {d: providers[d].count() for d in DESIGNS}
                time.sleep(window_s)
                for d in DESIGNS:
                    rates[d][n] = (providers[d].count() - before[d]) / (window_s / INTERVAL_S)
        finally:
            for holder in holders.values():
                holder.stop()
            stop_all(list(apps.values()))
    finally:
        for provider in providers.values():
            provider.stop()
    figures = []
    for n in VIEWERS:
        ours, article = rates["ours"][n], rates["article"][n]
        shortfall = {d: c for d, c in open_counts[n].items() if c != n}
        figures.append(Figure(
            f"upstream polls per {INTERVAL_S:g} s interval, {n} viewer{'s' * (n > 1)}",
            ours / REQUESTS_PER_POLL["ours"], article / REQUESTS_PER_POLL["article"], "polls",
            f"requests per interval: ours {ours:.1f} (all {REQUESTS_PER_POLL['ours']} cities, "
            f"one request each), article {article:.1f} (first city, per session); "
            f"counted over {window_s:g} s; goal: ours the same for 1, 4 and 8"
            + (f"; only {shortfall} sessions opened" if shortfall else "")))
    return figures


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
