"""Map tiles unreachable: server CPU with one page open, and whether updates still arrive.

Both designs draw their maps on EsriImagery tiles (the default), which this offline
browser can never load (outside hosts are blocked). One page of each is open at once,
polling every 2 s. Over a fixed window we take each server's CPU time and watch the page's
line plots: if their points grow, streaming updates are being delivered.
"""

from __future__ import annotations

import time

from bench.apps import KEY, LATENCY_S, serve, start_all, stop_all
from bench.browser import Browser, wait_all_connected
from bench.harness import Figure, quick_main
from testing.provider_server import ProviderServer

INTERVAL_S = 2.0
TILES = "EsriImagery"
DESIGNS = ("ours", "article")
#: After the websocket opens, time for the page to finish loading before measuring.
SETTLE_S = 5.0


def run(quick: bool) -> list[Figure]:
    window_s = 10.0 if quick else 20.0
    providers = {d: ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) for d in DESIGNS}
    for provider in providers.values():
        provider.start()
    cpu_pct: dict[str, float] = {}
    points: dict[str, tuple[int, int]] = {}
    try:
        apps = {d: serve(d, providers[d].url, interval_s=INTERVAL_S, tiles=TILES)
                for d in DESIGNS}
        start_all(list(apps.values()))
        try:
            with Browser() as browser:
                views = {d: browser.view(apps[d].url) for d in DESIGNS}
                for view in views.values():
                    view.go()
                wait_all_connected(list(views.values()), 120.0)
                views["ours"].page.wait_for_timeout(SETTLE_S * 1000)
                cpu0 = {d: apps[d].cpu_seconds() for d in DESIGNS}
                rows0 = {d: views[d].line_rows() for d in DESIGNS}
                started = time.monotonic()
                views["ours"].page.wait_for_timeout(window_s * 1000)
                elapsed_s = time.monotonic() - started
                for d in DESIGNS:
                    cpu_pct[d] = 100 * (apps[d].cpu_seconds() - cpu0[d]) / elapsed_s
                    points[d] = (rows0[d], views[d].line_rows())
                blocked = len(browser.blocked.hosts())
        finally:
            stop_all(list(apps.values()))
    finally:
        for provider in providers.values():
            provider.stop()

    def delivered(d: str) -> str:
        return "yes" if points[d][1] > points[d][0] else "no"

    return [
        Figure("server CPU with tiles unreachable, one page", cpu_pct["ours"],
               cpu_pct["article"], "% of a core",
               f"{TILES} tiles blocked ({blocked} outside hosts refused), {window_s:g} s window, "
               "both designs served at once"),
        Figure("line points received with tiles unreachable", float(points["ours"][1]
               - points["ours"][0]), float(points["article"][1] - points["article"][0]),
               "points",
               f"growth of the longest line over the window; updates delivered with tiles "
               f"blocked: ours {delivered('ours')}, article {delivered('article')}"),
    ]


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
