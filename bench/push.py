"""How fast a poll reaches many viewers on one process: ours, the article's design, a push floor.

    python -m bench.push [--quick] [--sessions 500,1000 --designs floor_push,ours]

For each N (10, 50, 100, 200; ``--quick``: 10, 100) a server of one design holds N browserless
sessions (``bench.sessions``: a GET of the page and its websocket, as BokehJS makes them,
from one asyncio client in this process) while the fake provider (150 ms per request) is
polled every 5 s. A session has an update when a message streaming new points
(``ColumnsStreamed``) reaches it. Figures per N: the share of updates that arrive within 1 s
of the poll, p50/p95/max delay, server CPU (% of one core over the window), RSS per session
(server RSS with the sessions open, less before opening, over N), and the time to open the N
sessions one after another.

The delay is counted from a poll's last upstream answer (request time at the fake server plus
its latency) to each session's first stream after it; a session with no stream before the
next poll counts as late. The article's design polls once per session on its own timer: each
upstream answer is matched, in order, to the first unmatched stream after it. Its sessions
saturate the process early, so it is measured at fewer sessions (``ARTICLE_NS``).
The floor (``bench/floor_push_app.py``) is the least a pushed Panel page costs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

from bench.apps import KEY, LATENCY_S, REAP_ARGS, mib, serve, wait_sessions
from bench.harness import Figure, print_table
from bench.sessions import Sessions
from testing.provider_server import ProviderServer
from weather.cities import CALIFORNIA_CITIES

INTERVAL_S = 5.0
NS, QUICK_NS = (10, 50, 100, 200), (10, 100)
ARTICLE_NS, QUICK_ARTICLE_NS = (10, 50), (10,)
POLLS, QUICK_POLLS = 6, 3
#: The current-weather requests of a poll (a forecast poll of the same server is not one).
WEATHER_PATH = "/data/2.5/weather"
#: A message streaming new points into a plot, as Bokeh's protocol names it.
STREAMED = '"ColumnsStreamed"'
WITHIN_S = 1.0
#: Longest wait for a server to destroy the sessions of the previous N.
REAP_TIMEOUT_S = 120.0
#: Longest time spent opening one N's sessions: this, or a second per session if longer.
OPEN_BUDGET_S = 300.0


@dataclass
class Measured:
    design: str
    n: int
    opened: int
    open_s: float
    open_cpu_ms: float  # server CPU per session while the sessions opened
    within: float | None  # share of updates within WITHIN_S
    p50_s: float | None
    p95_s: float | None
    max_s: float | None
    cpu_pct: float
    rss_per_session_mib: float
    client_cpu_pct: float


def poll_times(requests: list, after: float) -> list[float]:
    """The last upstream answer of each poll after ``after``: requests grouped by gaps."""
    times = sorted(r.time + LATENCY_S for r in requests
                   if r.time > after and r.path == WEATHER_PATH)
    polls: list[float] = []
    for t in times:
        if polls and t - polls[-1] < INTERVAL_S / 2:
            polls[-1] = t
        else:
            polls.append(t)
    return polls


def shared_poll_delays(polls: list[float], seen: list[list[float]], end: float) -> list[float]:
    """Each session's delay after each poll (inf when nothing came before the next poll)."""
    delays = []
    for i, t in enumerate(polls):
        until = polls[i + 1] if i + 1 < len(polls) else end
        for times in seen:
            first = next((r for r in times if t - 0.05 <= r < until), None)
            delays.append(float("inf") if first is None else max(0.0, first - t))
    return delays


def matched_delays(answers: list[float], seen: list[list[float]]) -> list[float]:
    """Each upstream answer's delay to the first unmatched stream after it, in order."""
    arrivals = sorted(r for times in seen for r in times)
    delays, j = [], 0
    for t in sorted(answers):
        while j < len(arrivals) and arrivals[j] < t:
            j += 1
        if j < len(arrivals):
            delays.append(arrivals[j] - t)
            j += 1
        else:
            delays.append(float("inf"))
    return delays


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def window_delays(requests: list, seen: list[list[float]], window_start: float,
                  window_end: float) -> list[float]:
    """Each session's delay after each shared poll answered in the window (a last second
    left for the streams of the window's last poll)."""
    answers = [t for t in poll_times(requests, window_start) if t < window_end - 1.0]
    seen = [[t for t in times if t >= window_start] for times in seen]
    return shared_poll_delays(answers, seen, window_end)


def delay_stats(delays: list[float]) -> dict[str, float | None]:
    """The share within ``WITHIN_S`` and p50/p95/max of delays (late ones are inf)."""
    finite = [d for d in delays if d != float("inf")]
    return {
        "within": sum(d <= WITHIN_S for d in delays) / len(delays) if delays else None,
        "p50_s": statistics.median(finite) if finite else None,
        "p95_s": percentile(delays, 0.95) if finite else None,
        "max_s": max(delays) if delays else None,
    }


def measure(design: str, ns: tuple[int, ...], polls: int, log=print) -> list[Measured]:
    """Serve ``design`` and measure it at each N in ``ns``."""
    results = []
    with ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) as provider:
        app = serve(design, provider.url, cities=CALIFORNIA_CITIES, interval_s=INTERVAL_S,
                    args=REAP_ARGS)
        with app, Sessions(app.url, timeout_s=120.0, watch=STREAMED) as sessions:
            sessions.open(1)  # imports and caches: not a figure
            sessions.close()
            wait_sessions(app, 0, REAP_TIMEOUT_S)
            for n in ns:
                results.append(_measure_n(design, app, provider, sessions, n, polls, log))
                sessions.close()
                if not wait_sessions(app, 0, REAP_TIMEOUT_S):
                    log(f"push: {design}: sessions of N={n} not all destroyed in time")
    return results


def _measure_n(design, app, provider, sessions, n, polls, log) -> Measured:
    time.sleep(1.0)
    rss_before, open_cpu0 = app.rss_bytes(), app.cpu_seconds()
    started = time.monotonic()
    opened = sessions.open(n, max(OPEN_BUDGET_S, 1.0 * n))
    open_s = time.monotonic() - started
    open_cpu_ms = 1000 * (app.cpu_seconds() - open_cpu0) / max(opened, 1)
    log(f"push: {design}: {opened}/{n} sessions open in {open_s:.1f} s")
    # Start counting on a fresh poll: what came before belongs to the opening.
    window_start = time.time() + 0.5
    cpu0, client0 = app.cpu_seconds(), time.process_time()
    time.sleep(polls * INTERVAL_S + 1.5)
    window_end = time.time()
    cpu = app.cpu_seconds() - cpu0
    client_cpu = time.process_time() - client0
    rss = app.rss_bytes()
    span = window_end - window_start
    if design == "article":
        # One upstream request per session per interval, each on its own timer.
        answers = sorted(r.time + LATENCY_S for r in provider.requests
                         if window_start < r.time < window_end - INTERVAL_S
                         and r.path == WEATHER_PATH)
        seen = [[t for t in times if t >= window_start] for times in sessions.seen]
        delays = matched_delays(answers, seen)
    else:
        delays = window_delays(provider.requests, sessions.seen, window_start, window_end)
    return Measured(
        design=design, n=n, opened=opened, open_s=open_s, open_cpu_ms=open_cpu_ms,
        **delay_stats(delays),
        cpu_pct=100 * cpu / span, rss_per_session_mib=mib(rss - rss_before) / max(opened, 1),
        client_cpu_pct=100 * client_cpu / span,
    )


def as_figures(results: list[Measured]) -> list[Figure]:
    """Rows for the report: ours beside the article's at each N, the floor in the notes."""
    by = {(r.design, r.n): r for r in results}
    rows: list[Figure] = []
    fields = (
        ("updates within 1 s of the poll", "within", "%", 100.0),
        ("p50 delay", "p50_s", "s", 1.0),
        ("p95 delay", "p95_s", "s", 1.0),
        ("max delay", "max_s", "s", 1.0),
        ("server CPU", "cpu_pct", "% of a core", 1.0),
        ("RSS per session", "rss_per_session_mib", "MiB", 1.0),
        ("time to open the sessions", "open_s", "s", 1.0),
        ("server CPU per session opened", "open_cpu_ms", "ms", 1.0),
    )
    for n in sorted({r.n for r in results}):
        ours, article, floor = by.get(("ours", n)), by.get(("article", n)), by.get(
            ("floor_push", n))
        for label, attr, unit, scale in fields:
            def value(r, attr=attr, scale=scale):
                v = None if r is None else getattr(r, attr)
                return None if v is None else v * scale

            note = f"floor {fmt(value(floor))}" if floor is not None else ""
            if ours is not None and ours.opened < n:
                note += f"; only {ours.opened} opened"
            if article is not None and article.opened < n:
                note += f"; article: only {article.opened} opened"
            rows.append(Figure(f"push, {n} sessions: {label}", value(ours), value(article),
                               unit, note.strip("; ")))
    return rows


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def run(quick: bool = False, log=print, ns: tuple[int, ...] | None = None,
        designs: tuple[str, ...] = ("floor_push", "ours", "article")) -> list[Figure]:
    """Measure ``designs`` at each N (``ns``: the default Ns; the article at its fewer)."""
    default_ns, article_ns = (QUICK_NS, QUICK_ARTICLE_NS) if quick else (NS, ARTICLE_NS)
    polls = QUICK_POLLS if quick else POLLS
    results = []
    for design in designs:
        design_ns = ns or (article_ns if design == "article" else default_ns)
        results.extend(measure(design, design_ns, polls, log))
    for r in results:
        log(f"push: {r.design} N={r.n}: opened {r.opened} in {r.open_s:.1f} s, within 1 s "
            f"{fmt(None if r.within is None else 100 * r.within)} %, p50 {fmt(r.p50_s)} s, "
            f"p95 {fmt(r.p95_s)} s, max {fmt(r.max_s)} s, CPU {r.cpu_pct:.0f} %, "
            f"RSS/session {r.rss_per_session_mib:.2f} MiB, client CPU {r.client_cpu_pct:.0f} %")
    return as_figures(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.push",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 10, 100 and fewer polls")
    parser.add_argument("--sessions", default="", help="""comma-separated Ns instead of the
        default ones, for every design (e.g. 500,1000 with --designs floor_push,ours)""")
    parser.add_argument("--designs", default="floor_push,ours,article",
                        help="comma-separated designs to measure: floor_push, ours, article")
    args = parser.parse_args(argv)
    ns = tuple(int(n) for n in args.sessions.split(",") if n.strip()) or None
    print_table(run(args.quick, ns=ns, designs=tuple(d.strip() for d in args.designs.split(","))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
