"""A page left open: the CPU its browser uses, as on a wall screen, both designs.

One design at a time, one page on the Real Time (streaming) tab, the feed polling every 2 s.
Over a fixed window we add up the CPU time of every Chromium process this run started:
the page's scripts, style and layout, painting, and the compositor, which animates on its
own thread and so escapes the page's own timings.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from bench.apps import KEY, LATENCY_S, serve
from bench.browser import Browser, wait_all_plotted
from bench.harness import Figure, quick_main
from testing.provider_server import ProviderServer
from testing.served import process_stat

INTERVAL_S = 2.0
DESIGNS = ("ours", "article")
#: After the first plot, time for the page to finish loading before measuring.
SETTLE_S = 5.0


def chromium_cpu_seconds() -> float:
    """User + system CPU time of the Chromium processes descended from this process."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # the process may have ended meanwhile
                stats[int(entry.name)] = process_stat(int(entry.name))
    me = os.getpid()

    def ours(pid: int) -> bool:
        while pid > 1:
            pid = stats[pid].parent if pid in stats else 0
            if pid == me:
                return True
        return False

    return sum(s.cpu_s for pid, s in stats.items() if "chrom" in s.name and ours(pid))


def _one(design: str, window_s: float) -> float:
    """Percent of one core the browser uses while a page of ``design`` stays open."""
    with ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) as provider, \
            serve(design, provider.url, interval_s=INTERVAL_S) as app, Browser() as browser:
        (view,) = browser.open(app.url)
        if not wait_all_plotted([view], 120.0):
            raise RuntimeError(f"{design}: no plot within 120 s")
        view.page.wait_for_timeout(SETTLE_S * 1000)
        cpu0, started = chromium_cpu_seconds(), time.monotonic()
        view.page.wait_for_timeout(window_s * 1000)
        return 100 * (chromium_cpu_seconds() - cpu0) / (time.monotonic() - started)


def run(quick: bool) -> list[Figure]:
    window_s = 10.0 if quick else 30.0
    cpu = {d: _one(d, window_s) for d in DESIGNS}
    return [Figure("browser CPU of a page left open, polled every 2 s", cpu["ours"],
                   cpu["article"], "% of a core",
                   f"all Chromium processes, {window_s:g} s window after the first plot, "
                   "one design at a time")]


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
