"""Scale-out on one PostgreSQL: upstream calls, a poll's delay to other processes and many sessions.

    python -m bench.scaleout [--quick] [--soak-minutes M]

Figures: upstream calls per interval with 1, 2 and 3 processes (current weather and
forecast), the delay from a poll to a session of another process, the gap when the poller is
killed, and 200 sessions on 2 processes (``--quick``: 100) with the share of updates within
1 s of each poll; with ``--soak-minutes``, rows lost or duplicated over a run of one-second
polls with the poller killed and PostgreSQL crashed. Beside each figure: the single-process
SQLite setup (one process, its own poller), the design a user has without PostgreSQL.

Everything runs on 127.0.0.1: the fake provider server, a throwaway PostgreSQL cluster and
`panel serve` processes of the app. The first figures poll Open-Meteo (one request per poll
of all cities, no latency); the sessions figure polls OpenWeather with 150 ms per request
every 5 s, as ``bench.push`` does, and counts a delay from a poll's last upstream answer. A
session is a Bokeh websocket held open without a browser (``bench.sessions``); it has
received a poll when a ``ColumnsStreamed`` event (new plot points) arrives after the poll.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import mkdtemp

from bench import push
from bench.apps import KEY, LATENCY_S, REAP_ARGS, start_all, wait_sessions
from bench.apps import serve as serve_design
from bench.harness import Figure, print_table
from bench.sessions import Sessions
from testing.postgres import PostgresCluster
from testing.provider_server import ProviderServer
from testing.served import ServedApp, wait_until

INTERVAL_S = 2.0
#: Short, so a window holds several forecast polls (an hour by default).
FORECAST_S = 2 * INTERVAL_S
FORECAST = "/v1/forecast"
# The feed's log lines when it takes or leaves the poller lock, for any provider.
POLLS = "feed: this process polls"
FOLLOWS = "feed: another process polls"
#: Sessions held on each of 2 processes for the crowd figure (``--quick``: fewer).
CROWD_PER_PROCESS, QUICK_CROWD_PER_PROCESS = 100, 50
#: Polls the crowd figure counts: a minute, so that each process's garbage collection
#: between two polls (every 30 s or so) falls in it (``--quick``: bench.push's few).
CROWD_POLLS = 12


def serve(provider: ProviderServer, db: str) -> ServedApp:
    return ServedApp("app.py", env={
        "WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": provider.url,
        "GEOCODING_BASE_URL": provider.url, "WEATHER_INTERVAL": f"{INTERVAL_S:g}",
        "WEATHER_DB": db, "WEATHER_TILES": "none",
        "WEATHER_FORECAST_INTERVAL": f"{FORECAST_S:g}",
    }, start_timeout_s=120)


def poll_times(provider: ProviderServer, start: float = 0.0, end: float = float("inf")) -> list:
    """Times of current-weather polls (Open-Meteo's forecast path with ``current``)."""
    return [r.time for r in provider.requests
            if r.path == FORECAST and "current" in r.query and start < r.time <= end]


def forecast_times(provider: ProviderServer, start: float, end: float) -> list:
    """Times of forecast polls: the same path with ``hourly`` (and not a backfill's past)."""
    return [r.time for r in provider.requests if r.path == FORECAST and "hourly" in r.query
            and "current" not in r.query and "past_days" not in r.query
            and start < r.time <= end]


def polls_per_interval(provider: ProviderServer, window_s: float) -> tuple[float, float]:
    """Current-weather polls per interval and forecast polls per forecast interval."""
    start = time.time()
    time.sleep(window_s)  # a measuring window, not a synchronisation
    end = time.time()
    return (len(poll_times(provider, start, end)) / (window_s / INTERVAL_S),
            len(forecast_times(provider, start, end)) / (window_s / FORECAST_S))


def delays(provider: ProviderServer, sessions: Sessions, window_s: float) -> list[float]:
    """Seconds from each poll in the window to each session's first new points after it
    (inf when none came before the next poll)."""
    start = time.time()
    time.sleep(window_s)  # a measuring window, not a synchronisation
    end = time.time()
    polls = poll_times(provider, start, end - INTERVAL_S)
    return push.shared_poll_delays(polls, sessions.seen, end)


def p95(values: list[float]) -> float | None:
    return push.percentile(values, 0.95)


def poller(apps: list[ServedApp]) -> ServedApp | None:
    """The process whose last word on the lock is that it polls."""
    for app in apps:
        text = app.log_text()
        if app.alive() and text.rfind(POLLS) > text.rfind(FOLLOWS):
            return app
    return None


def run(quick: bool) -> list[Figure]:
    window_s = 8.0 if quick else 40.0
    kills = 1 if quick else 3
    figures: list[Figure] = []
    with ProviderServer(data_period_s=0.5) as provider, PostgresCluster() as cluster:
        # The single-process SQLite setup: its rate and its own session's delay.
        folder = Path(mkdtemp(prefix="bench-scaleout-"))
        with serve(provider, str(folder / "history.sqlite3")) as alone, \
                Sessions(alone.url, watch=push.STREAMED) as session:
            session.open(1)
            alone_rate = polls_per_interval(provider, window_s)
            alone_delays = delays(provider, session, window_s)
        url = cluster.create_database("scaleout")
        apps: list[ServedApp] = []
        rates: dict[int, tuple[float, float]] = {}
        try:
            for n in (1, 2, 3):
                apps.append(serve(provider, url).start())
                wait_until(lambda: poller(apps) is not None, timeout_s=60, message="a poller")
                rates[n] = polls_per_interval(provider, window_s)
            leader = poller(apps)
            follower = next(app for app in apps if app is not leader)
            with Sessions(follower.url, watch=push.STREAMED) as session:
                session.open(1)
                other_delays = delays(provider, session, window_s)
            gaps = []
            for _ in range(kills):
                leader = poller(apps)
                os.kill(leader.pid, signal.SIGKILL)
                killed_at = time.time()
                wait_until(lambda leader=leader: not leader.alive(), timeout_s=30)
                apps.remove(leader)
                wait_until(lambda t=killed_at: len(poll_times(provider, t)) >= 1, timeout_s=120,
                           message="a poll after the kill")
                before = poll_times(provider, 0, killed_at)[-1]
                gaps.append((poll_times(provider, killed_at)[0] - before) / INTERVAL_S)
                apps.append(serve(provider, url).start())
        finally:
            for app in apps:
                app.stop()
    for n in (1, 2, 3):
        figures.append(Figure(f"scale-out: upstream polls per interval, {n} process(es)",
                              rates[n][0], alone_rate[0], "polls",
                              "PostgreSQL, one poller for all; baseline: one SQLite process"))
    for n in (1, 2, 3):
        figures.append(Figure(f"scale-out: forecast polls per forecast interval, {n} "
                              "process(es)", rates[n][1], alone_rate[1], "polls",
                              f"every {FORECAST_S:g} s here; PostgreSQL, the feed's poller "
                              "polls it for all; baseline: one SQLite process"))
    figures.append(Figure("scale-out: poll to a session of another process, p95",
                          p95(other_delays), p95(alone_delays), "s",
                          f"{len(other_delays)} and {len(alone_delays)} polls, every "
                          f"{INTERVAL_S:g} s, from the poll's request; p50 "
                          f"{push.fmt(push.percentile(other_delays, 0.5))} and "
                          f"{push.fmt(push.percentile(alone_delays, 0.5))} s, max "
                          f"{push.fmt(max(other_delays, default=None))} and "
                          f"{push.fmt(max(alone_delays, default=None))} s; baseline: a "
                          "session of the polling process itself (SQLite); goal ≤ 1 s"))
    figures.append(Figure("scale-out: takeover gap after SIGKILL of the poller, worst",
                          max(gaps), 1.0, "intervals",
                          f"{len(gaps)} kill(s), median {statistics.median(gaps):.2f}; "
                          "baseline: the gap between two polls of a live poller; goal ≤ 2"))
    return figures + crowd(quick)


def open_on_each(crowds: list[Sessions], n: int) -> list[tuple[int, float]]:
    """Open ``n`` sessions on each process, the processes side by side; (opened, seconds)."""
    results: list[tuple[int, float]] = [(0, 0.0)] * len(crowds)

    def open_n(i: int) -> None:
        started = time.monotonic()
        opened = crowds[i].open(n, push.OPEN_BUDGET_S)
        results[i] = (opened, time.monotonic() - started)

    threads = [threading.Thread(target=open_n, args=(i,), daemon=True)
               for i in range(len(crowds))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def crowd(quick: bool, log=print) -> list[Figure]:
    """Sessions on 2 processes of one PostgreSQL, with push (bench.push's measure), beside
    as many on one SQLite process measured by bench.push itself."""
    n = QUICK_CROWD_PER_PROCESS if quick else CROWD_PER_PROCESS
    polls = push.QUICK_POLLS if quick else CROWD_POLLS
    with ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) as provider, \
            PostgresCluster() as cluster:
        url = cluster.create_database("crowd")
        apps = [serve_design("ours", provider.url, interval_s=push.INTERVAL_S, db_path=url,
                             args=REAP_ARGS) for _ in range(2)]
        start_all(apps)
        crowds = [Sessions(app.url, timeout_s=120.0, watch=push.STREAMED) for app in apps]
        try:
            for sessions in crowds:
                sessions.open(1)  # imports, caches and the feed's start: not a figure
            wait_until(lambda: poller(apps) is not None, timeout_s=60, message="a poller")
            for app, sessions in zip(apps, crowds, strict=True):
                sessions.close()
                wait_sessions(app, 0, push.REAP_TIMEOUT_S)
            opened = open_on_each(crowds, n)
            for i, (count, seconds) in enumerate(opened):
                log(f"scaleout: process {i + 1}: {count}/{n} sessions open in {seconds:.1f} s")
            # Start counting on a fresh poll: what came before belongs to the opening.
            window_start = time.time() + 0.5
            cpu0 = [app.cpu_seconds() for app in apps]
            time.sleep(polls * push.INTERVAL_S + 1.5)  # a measuring window
            window_end = time.time()
            cpu = [100 * (app.cpu_seconds() - c) / (window_end - window_start)
                   for app, c in zip(apps, cpu0, strict=True)]
            leader = poller(apps)
            per_process = [push.window_delays(provider.requests, sessions.seen, window_start,
                                              window_end) for sessions in crowds]
        finally:
            for sessions in crowds:
                sessions.stop()
            for app in apps:
                app.stop()
    alone = push.measure("ours", (2 * n,), polls, log)[0]
    both = push.delay_stats([d for delays in per_process for d in delays])
    baseline = {key: getattr(alone, key) for key in both}
    each = [push.delay_stats(delays) for delays in per_process]
    roles = ["polls" if app is leader else "follows" for app in apps]
    polled = len(per_process[0]) // max(opened[0][0], 1)
    fields = (("updates within 1 s of the poll", "within", "%", 100.0),
              ("p50 delay", "p50_s", "s", 1.0), ("p95 delay", "p95_s", "s", 1.0),
              ("max delay", "max_s", "s", 1.0))
    rows = []
    for label, key, unit, scale in fields:
        def value(stats: dict, key=key, scale=scale) -> float | None:
            v = stats[key]
            return None if v is None else v * scale

        per = ", ".join(f"process {i + 1} ({role}, {count} sessions, CPU {c:.0f} % of a "
                        f"core): {push.fmt(value(stats))}"
                        for i, (role, (count, _), c, stats)
                        in enumerate(zip(roles, opened, cpu, each, strict=True)))
        rows.append(Figure(
            f"scale-out, {2 * n} sessions on 2 processes: {label}", value(both), value(baseline),
            unit, f"PostgreSQL, {polled} polls every {push.INTERVAL_S:g} s, 7 cities, "
            f"{LATENCY_S * 1000:.0f} ms upstream, from each poll's last answer; {per}; "
            f"baseline: {alone.opened} sessions on one process on SQLite (bench.push); "
            f"goal: each poll within 1 s"))
    return rows


#: The fake server reads its clock for an answer's observation time a moment after it logs
#: the request: a poll's row may carry the next second when the request came just before it.
SLACK_S = 0.2
SOAK_CITY = "San Francisco"


def stored_seconds(url: str, city: str) -> list[int]:
    """Observation times (s) of ``city``'s rows."""
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] // 1000 for r in conn.execute(
            "SELECT time_ms FROM observations WHERE city = %s ORDER BY time_ms", (city,))]


def duplicate_rows(url: str) -> int:
    """Rows beyond the first of each (provider, city, time), all cities."""
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) - count(DISTINCT (provider, city, time_ms)) "
                            "FROM observations").fetchone()[0]


@dataclass
class SoakCount:
    """Each poll matched to the row its answer should have left."""

    stored: int = 0  # polls whose row is there
    same_second: int = 0  # polls answered with the previous poll's observation time
    at_kill: list[float] = field(default_factory=list)  # missing, in flight at a SIGKILL
    lost: list[float] = field(default_factory=list)  # missing, no SIGKILL near


def count_soak(polls: list[float], seconds: list[int], kills: list[float],
               interval_s: float) -> SoakCount:
    """Match polls to stored observation seconds, in order, each row to one poll at most."""
    count, free, previous = SoakCount(), set(seconds), None
    for t in sorted(polls):
        candidates = (int(t), int(t + SLACK_S))
        match = next((s for s in candidates if s in free), None)
        if match is not None:
            free.discard(match)
            count.stored += 1
        elif previous in candidates:  # the same observation served twice: one row for both
            count.same_second += 1
        elif any(k - 2 * interval_s <= t <= k for k in kills):
            count.at_kill.append(t)
        else:
            count.lost.append(t)
        previous = int(t) if match is None else match
    return count


def soak(minutes: float, kills: int = 5, restarts: int = 2) -> list[Figure]:
    """Polls every second for ``minutes`` with 3 processes; the poller killed ``kills`` times
    and PostgreSQL crashed and restarted ``restarts`` times, evenly spread. The fake server
    serves a new observation time each second, so each poll should leave one row per city;
    each poll up to the end is matched to its row once the processes have written them."""
    interval_s = 1.0
    events = ["kill"] * kills
    for i in range(restarts):  # the crashes spread among the kills
        events.insert((i + 1) * len(events) // (restarts + 1) + i, "restart")
    step_s = minutes * 60 / (len(events) + 1)
    killed_at: list[float] = []
    with ProviderServer(data_period_s=1.0) as provider, PostgresCluster() as cluster:
        url = cluster.create_database("soak")
        def make() -> ServedApp:
            return ServedApp("app.py", env={
                "WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": provider.url,
                "GEOCODING_BASE_URL": provider.url, "WEATHER_INTERVAL": f"{interval_s:g}",
                "WEATHER_DB": url, "WEATHER_TILES": "none"}, start_timeout_s=120)

        apps = [make() for _ in range(3)]
        try:
            for app in apps:
                app.start()
            for event in [*events, None]:
                time.sleep(step_s)  # the run's length, not a synchronisation
                if event == "kill":
                    leader = poller(apps)
                    if leader is not None:
                        killed_at.append(time.time())
                        os.kill(leader.pid, signal.SIGKILL)
                        wait_until(lambda leader=leader: not leader.alive(), timeout_s=30)
                        apps.remove(leader)
                        apps.append(make().start())
                elif event == "restart":
                    cluster.crash()
                    time.sleep(5 * interval_s)  # an outage of five polls
                    cluster.start()
            polled = poll_times(provider, 0, time.time())

            def written() -> bool:
                found = count_soak(polled, stored_seconds(url, SOAK_CITY), killed_at,
                                   interval_s)
                return not found.lost

            with contextlib.suppress(TimeoutError):  # what is still missing is counted
                wait_until(written, timeout_s=120, interval_s=1.0)
        finally:
            for app in apps:
                app.stop()
        count = count_soak(polled, stored_seconds(url, SOAK_CITY), killed_at, interval_s)
        duplicated = duplicate_rows(url)
        rows = len(stored_seconds(url, SOAK_CITY))
    note = (f"{minutes:g} min, polls every {interval_s:g} s, {len(polled)} polls "
            f"({count.same_second} in the same second as the one before), {rows} rows of "
            f"{SOAK_CITY} stored when the processes stopped; {len(killed_at)} SIGKILLs of "
            f"the poller, its poll in flight lost {len(count.at_kill)} time(s) (not counted), "
            f"{restarts} crashes of "
            "PostgreSQL of 5 s each")
    return [Figure("scale-out soak: rows lost", len(count.lost), 0, "polls", note),
            Figure("scale-out soak: rows duplicated", duplicated, 0, "rows",
                   "all cities; " + note)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="shorter windows, one kill, 2×50 sessions")
    parser.add_argument("--soak-minutes", type=float, default=0.0,
                        help="also run the loss/duplicate soak for this many minutes (10 in "
                             "the issue's figure)")
    args = parser.parse_args(argv)
    figures = run(args.quick)
    if args.soak_minutes:
        figures += soak(args.soak_minutes)
    print_table(figures)


if __name__ == "__main__":
    main()
