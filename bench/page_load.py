"""Time to first plot: a cold server, a warm one, and 8 viewers opening at once, both designs.

"First plot" is the moment, on the page's own clock from navigation start, when a line
glyph's ColumnDataSource first holds rows in the browser. The feed interval is long
(600 s) so that every upstream request counted during a warm page load is caused by that
page, not by a poll. Each viewer is a new browser context: a new visitor, nothing cached.
"""

from __future__ import annotations

import time

from bench.apps import KEY, LATENCY_S, serve
from bench.browser import Browser, close_all, wait_all_plotted, wait_for
from bench.harness import Figure, median, quick_main
from dashboards.server.shared import REFRESH_CACHE_S
from testing.provider_server import ProviderServer

INTERVAL_S = {"ours": 600.0, "article": 2.0}
#: A page that shows a plot has finished loading once its Refresh table holds data. Ours
#: has no table until its Refresh tab is first opened: for it, the plot is the end.
LOADED_JS = "() => { const t = window.__bench.tableSig(); return t === '' || t.length > 40; }"
#: Seconds a page may take to show a plot before its figure is reported as a lower bound.
LOAD_TIMEOUT_S = 60.0
#: After a page has loaded, requests are still counted this long.
SETTLE_S = 1.0
CONCURRENT_VIEWERS = 8
#: Warm page loads per design in a full run (2 in a quick one): one load can take half again
#: as long as the next on a shared machine, and the median of 3 moved by a tenth between runs.
WARM_LOADS = 7


def _one_load(browser: Browser, url: str,
              provider: ProviderServer) -> tuple[float | None, int]:
    """Open one viewer: seconds to its first plot (None: none yet), upstream requests."""
    before = provider.count()
    (view,) = browser.open(url)
    try:
        wait_all_plotted([view], LOAD_TIMEOUT_S)
        first_plot_s = view.first_plot_s()
        wait_for(view, lambda: bool(view.state(LOADED_JS)), 30.0)
        view.page.wait_for_timeout(SETTLE_S * 1000)
        return first_plot_s, provider.count() - before
    finally:
        view.close()


def _design(design: str, browser: Browser, quick: bool) -> dict[str, object]:
    warm_reps = 2 if quick else WARM_LOADS
    # Long enough for the article's 8 pages on a slow machine (over 90 s here), so that its
    # figure is a time, not a lower bound.
    concurrent_timeout_s = 60.0 if quick else 180.0
    with ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) as provider:
        app = serve(design, provider.url, interval_s=INTERVAL_S[design])
        with app:
            cold_s, cold_requests = _one_load(browser, app.url, provider)
            warm = []
            for rep in range(warm_reps):
                if design == "ours" and rep == 0:  # past the shared Refresh cache
                    time.sleep(REFRESH_CACHE_S + 0.5)
                warm.append(_one_load(browser, app.url, provider))
            all_s, plotted = _concurrent_loads(browser, app.url, concurrent_timeout_s)
    loads = [cold_s, *(s for s, _ in warm)]
    # A page that showed no plot before the timeout counts as the timeout: a lower bound.
    warm_s = [LOAD_TIMEOUT_S if s is None else s for s, _ in warm]
    return {
        "cold_s": LOAD_TIMEOUT_S if cold_s is None else cold_s,
        "load_timeouts": sum(s is None for s in loads),
        "cold_requests": cold_requests,
        "warm_s": median(warm_s),
        "warm_requests": median([n for _, n in warm]),
        "warm_runs": len(warm_s),
        "all_s": all_s,
        "timed_out": plotted < CONCURRENT_VIEWERS,
        "plotted": plotted,
    }


def _floor(browser: Browser, quick: bool) -> dict[str, object]:
    """The same loads of a page holding one line plot and nothing else (`bench/floor_app.py`)."""
    with serve("floor", provider_url="") as app:  # it reads no settings, asks no provider
        _one_plot(browser, app.url)  # the cold load, not counted
        warm = [_one_plot(browser, app.url) for _ in range(2 if quick else WARM_LOADS)]
        all_s, _plotted = _concurrent_loads(browser, app.url, LOAD_TIMEOUT_S)
    return {"warm_s": median([LOAD_TIMEOUT_S if s is None else s for s in warm]),
            "all_s": all_s}


def _concurrent_loads(browser: Browser, url: str, timeout_s: float) -> tuple[float, int]:
    """Open the viewers at once: seconds until the last one plotted, and how many did.

    A run that timed out reports its timeout: a lower bound.
    """
    started = time.time()
    views = browser.open(url, CONCURRENT_VIEWERS)
    try:
        seen = wait_all_plotted(views, timeout_s)
    finally:
        close_all(views)
    plotted = len(seen)
    return (max(seen.values()) - started if plotted == CONCURRENT_VIEWERS else timeout_s), plotted


def _one_plot(browser: Browser, url: str) -> float | None:
    (view,) = browser.open(url)
    try:
        wait_all_plotted([view], LOAD_TIMEOUT_S)
        return view.first_plot_s()
    finally:
        view.close()


def run(quick: bool) -> list[Figure]:
    with Browser() as browser:
        ours = _design("ours", browser, quick)
        article = _design("article", browser, quick)
        floor = _floor(browser, quick)
    timeout_note = "; ".join(
        f"{name} timed out, a lower bound: {r['plotted']}/{CONCURRENT_VIEWERS} had plotted"
        for name, r in (("ours", ours), ("article", article)) if r["timed_out"]
    )
    return [
        Figure("first plot, cold server", ours["cold_s"], article["cold_s"], "s",
               "navigation to a line plot with data, first page after `panel serve` started; "
               f"upstream requests during it: ours {ours['cold_requests']} (with the shared "
               f"feed's first poll); a page with no plot after {LOAD_TIMEOUT_S:g} s counts as "
               f"{LOAD_TIMEOUT_S:g} s (timeouts, cold and warm: ours {ours['load_timeouts']}, "
               f"article {article['load_timeouts']})"),
        Figure("first plot, warm server", ours["warm_s"], article["warm_s"], "s",
               f"median of {ours['warm_runs']}/{article['warm_runs']} page loads; goal ≤ 0.5×"),
        Figure("upstream requests per warm page load", ours["warm_requests"], None, "requests",
               f"counted at the provider until {SETTLE_S:g} s after the page had loaded (its "
               "plot drawn, and the article's Refresh table filled), the first load more "
               f"than {REFRESH_CACHE_S:g} s after the cold one (past the shared Refresh "
               "cache); goal: 0. "
               "Article not counted: its sessions poll in the same window (by design each of "
               "its page loads asks for every city, plus one for its own poller)"),
        Figure(f"{CONCURRENT_VIEWERS} viewers at once: all show a plot", ours["all_s"],
               article["all_s"], "s",
               "from starting the navigations to the last first plot; goal ≤ 1/3×"
               + (f" ({timeout_note})" if timeout_note else "")),
        # The floor sits in the "ours" column: its ratio says how far below the article any
        # page of this stack can go on this machine, whatever the dashboard does.
        Figure("floor, a one-plot Panel page: first plot, warm server", floor["warm_s"],
               article["warm_s"], "s",
               "`bench/floor_app.py`, one HoloViews curve and nothing else, loaded like the "
               "others; no dashboard can load faster here"),
        Figure(f"floor, a one-plot Panel page: {CONCURRENT_VIEWERS} viewers at once",
               floor["all_s"], article["all_s"], "s",
               "the same page opened by 8 viewers at once; the browsers share the server's "
               "cores, so this is the least the 8-viewer figure can be on this machine"),
    ]


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
