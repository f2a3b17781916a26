"""Server memory (RSS) per open session, and after cycles of opening and closing sessions.

Both designs run side by side, each served with ``--unused-session-lifetime 1000
--check-unused-sessions 500`` so Bokeh destroys a session about a second after its viewer
leaves. Sessions are held over Bokeh's websocket (``bench.sessions``): the server builds and
serves each one as for a browser. A cycle opens N sessions, notes the RSS, closes them,
waits until the server has destroyed every one (Panel logs each) and two poll intervals
more (ours frees what closed sessions left at its next collection between two polls), and
notes the RSS again.
Goal: after the last cycle, within 10% of the level after the first. Three cycles of 50
sessions (``--quick``, and in a full ``bench.run``: 20).
"""

from __future__ import annotations

import threading
import time

from bench.apps import (
    KEY,
    LATENCY_S,
    REAP_ARGS,
    mib,
    serve,
    sessions_alive,
    start_all,
    stop_all,
    wait_sessions,
)
from bench.harness import Figure, quick_main
from bench.sessions import Sessions
from testing.provider_server import ProviderServer
from testing.served import ServedApp

INTERVAL_S = 5.0
#: After the last cycle, upstream requests are counted this long with no viewer left.
IDLE_WINDOW_S = 10.0
DESIGNS = ("ours", "article")
SETTLE_S = 2.0
#: Wait after the sessions are destroyed before reading RSS: two polls, for a server that
#: frees what closed sessions left at its next collection between polls rather than at once.
FREED_S = 2 * INTERVAL_S
REAP_TIMEOUT_S = 30.0
#: Most time spent opening one cycle's sessions (a server that slows down opens fewer).
OPEN_BUDGET_S = 75.0


def _cycles(app: ServedApp, provider: ProviderServer, n: int, cycles: int,
            out: dict[str, object]) -> None:
    """Open and close ``n`` sessions ``cycles`` times, recording RSS (MiB) into ``out``."""
    with Sessions(app.url) as holder:
        holder.open(1)  # the first session pays for imports: keep that out of the figures
        holder.close()
        wait_sessions(app, 0, REAP_TIMEOUT_S)
        time.sleep(SETTLE_S)
        out["base"] = mib(app.rss_bytes())
        out["open"], out["after"], out["alive"], out["opened"] = [], [], [], []
        for cycle in range(cycles):
            # Later cycles open as many sessions as the first did, so the cycles compare.
            want = n if cycle == 0 else out["opened"][0]
            out["opened"].append(holder.open(want, OPEN_BUDGET_S * (1 if cycle == 0 else 2)))
            time.sleep(SETTLE_S)
            out["open"].append(mib(app.rss_bytes()))
            holder.close()
            wait_sessions(app, 0, REAP_TIMEOUT_S)
            out["alive"].append(sessions_alive(app))
            time.sleep(FREED_S)
            out["after"].append(mib(app.rss_bytes()))
    before = provider.count()
    time.sleep(IDLE_WINDOW_S)
    out["idle_requests"] = provider.count() - before


def run(quick: bool) -> list[Figure]:
    n, cycles = (20, 3) if quick else (50, 3)
    providers = {d: ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) for d in DESIGNS}
    results: dict[str, dict[str, object]] = {d: {} for d in DESIGNS}
    for provider in providers.values():
        provider.start()
    try:
        apps = {d: serve(d, providers[d].url, interval_s=INTERVAL_S, args=REAP_ARGS)
                for d in DESIGNS}
        start_all(list(apps.values()))
        try:
            threads = [
                threading.Thread(target=_cycles, daemon=True,
                                 args=(apps[d], providers[d], n, cycles, results[d]))
                for d in DESIGNS
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(600.0)
        finally:
            stop_all(list(apps.values()))
    finally:
        for provider in providers.values():
            provider.stop()
    return _figures(results, n, cycles)


def _figures(results: dict[str, dict], n: int, cycles: int) -> list[Figure]:
    ours, article = results["ours"], results["article"]
    if "after" not in ours or "after" not in article or len(ours["after"]) < cycles:
        raise RuntimeError(f"memory cycles did not finish: {results}")

    def per_session(r: dict) -> float | None:
        return (r["open"][0] - r["base"]) / r["opened"][0] if r["opened"][0] else None

    def growth(r: dict) -> float:
        return 100 * (r["after"][-1] - r["after"][0]) / r["after"][0]

    def trail(r: dict) -> str:
        return " → ".join(f"{v:.0f}" for v in (r["base"], *r["after"]))

    return [
        Figure("server RSS per open session", per_session(ours), per_session(article), "MiB",
               f"(RSS with the first cycle's sessions open − idle server) / sessions; idle: ours "
               f"{ours['base']:.0f}, article {article['base']:.0f} MiB"),
        Figure("server RSS with the first cycle's sessions open", ours["open"][0],
               article["open"][0], "MiB",
               f"{n} asked, opened within {OPEN_BUDGET_S:g} s, then as many in each later "
               f"cycle: ours {ours['opened']}, article {article['opened']}"),
        Figure(f"server RSS after {cycles} cycles of up to {n} sessions", ours["after"][-1],
               article["after"][-1], "MiB",
               f"idle → after each cycle: ours {trail(ours)}, article {trail(article)}"),
        Figure(f"RSS growth, cycle {cycles} vs cycle 1", growth(ours), growth(article), "%",
               "goal ≤ 10 for ours"),
        Figure("sessions left alive after closing", float(max(ours["alive"])),
               float(max(article["alive"])), "sessions",
               f"most over the cycles, {REAP_TIMEOUT_S:g} s after closing"),
        Figure(f"upstream requests in {IDLE_WINDOW_S:g} s with no viewer left",
               float(ours["idle_requests"]), float(article["idle_requests"]), "requests",
               f"after the last cycle, polling every {INTERVAL_S:g} s: ours' one shared feed "
               "keeps polling; the article's loops stop once their sessions are collected"),
    ]


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
