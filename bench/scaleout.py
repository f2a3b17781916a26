"""Scale-out on one PostgreSQL: upstream calls per interval with 1, 2 and 3 processes (current
weather and forecast), the delay from a poll to a session of another process, and the gap when
the poller is killed.

    python -m bench.scaleout [--quick] [--soak-minutes M]

Beside each figure: the single-process SQLite setup (one process, its own poller), the
design a user has without PostgreSQL. Everything runs on 127.0.0.1: the fake provider
server (Open-Meteo, one request per poll of all cities), a throwaway PostgreSQL cluster and
`panel serve` processes of the app. A session is a Bokeh websocket held open without a
browser (``bench.sessions``); it has received a poll when a ``ColumnsStreamed`` event (new
plot points) arrives after the poll's request.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import time
from pathlib import Path
from tempfile import mkdtemp

from bench.harness import Figure, print_table
from bench.sessions import Sessions
from testing.postgres import PostgresCluster
from testing.provider_server import ProviderServer
from testing.served import ServedApp, wait_until

INTERVAL_S = 2.0
#: Short, so a window holds several forecast polls (an hour by default).
FORECAST_S = 2 * INTERVAL_S
FORECAST = "/v1/forecast"
POLLS = "this process polls open-meteo now"
FOLLOWS = "this one follows it"
NEW_POINTS = '"kind":"ColumnsStreamed"'


class TimedSessions(Sessions):
    """Sessions that note when each message carrying new plot points arrives."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.arrivals: list[float] = []

    async def _drain(self, conn) -> None:  # type: ignore[override]
        while (message := await conn.read_message()) is not None:
            if isinstance(message, str) and NEW_POINTS in message:
                self.arrivals.append(time.time())


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


def delays(provider: ProviderServer, sessions: TimedSessions, window_s: float) -> list[float]:
    """Seconds from each poll in the window to the session's next new points."""
    start = time.time()
    time.sleep(window_s)
    found = []
    for polled in poll_times(provider, start, time.time() - 2 * INTERVAL_S):
        later = [t for t in sessions.arrivals if t > polled]
        if later:
            found.append(later[0] - polled)
    return found


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def poller(apps: list[ServedApp]) -> ServedApp | None:
    """The process whose last word on the lock is that it polls."""
    for app in apps:
        text = app.log_text()
        if app.alive() and text.rfind(POLLS) > text.rfind(FOLLOWS):
            return app
    return None


def run(quick: bool) -> list[Figure]:
    window_s = 12.0 if quick else 40.0
    kills = 1 if quick else 3
    figures: list[Figure] = []
    with ProviderServer(data_period_s=0.5) as provider, PostgresCluster() as cluster:
        # The single-process SQLite setup: its rate and its own session's delay.
        folder = Path(mkdtemp(prefix="bench-scaleout-"))
        with serve(provider, str(folder / "history.sqlite3")) as alone, \
                TimedSessions(alone.url) as session:
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
            with TimedSessions(follower.url) as session:
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
                          f"{len(other_delays)} and {len(alone_delays)} polls; baseline: a "
                          "session of the polling process itself (SQLite); goal ≤ 1 s"))
    figures.append(Figure("scale-out: takeover gap after SIGKILL of the poller, worst",
                          max(gaps), 1.0, "intervals",
                          f"{len(gaps)} kill(s), median {statistics.median(gaps):.2f}; "
                          "baseline: the gap between two polls of a live poller; goal ≤ 2"))
    return figures


def stored_times(url: str, city: str) -> list[int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT time_ms FROM observations WHERE city = %s", (city,))]


def soak(minutes: float, kills: int = 5, restarts: int = 2) -> list[Figure]:
    """Polls every second for ``minutes`` with 3 processes; the poller killed ``kills`` times
    and PostgreSQL crashed and restarted ``restarts`` times, evenly spread. Every poll gets a
    new observation time, so each answered poll should leave exactly one row per city."""
    interval_s = 1.0
    events = ["kill"] * kills
    for i in range(restarts):  # the crashes spread among the kills
        events.insert((i + 1) * len(events) // (restarts + 1) + i, "restart")
    step_s = minutes * 60 / (len(events) + 1)
    with ProviderServer(data_period_s=0.25) as provider, PostgresCluster() as cluster:
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
                        os.kill(leader.pid, signal.SIGKILL)
                        wait_until(lambda leader=leader: not leader.alive(), timeout_s=30)
                        apps.remove(leader)
                        apps.append(make().start())
                elif event == "restart":
                    cluster.crash()
                    time.sleep(5 * interval_s)  # an outage of five polls
                    cluster.start()
            polled = poll_times(provider)
            wait_until(lambda: len(stored_times(url, "San Francisco")) >= len(polled) - kills,
                       timeout_s=120, message="the last rows written")
        finally:
            for app in apps:
                app.stop()
        times = stored_times(url, "San Francisco")
    lost = max(0, len(polled) - kills - len(times))
    duplicated = len(times) - len(set(times))
    note = (f"{minutes:g} min, polls every {interval_s:g} s, {len(polled)} polls, "
            f"{len(times)} rows of one city stored, "
            f"{kills} SIGKILLs of the poller (its poll in flight may go), {restarts} crashes "
            "of PostgreSQL")
    return [Figure("scale-out soak: rows lost", lost, 0, "polls", note),
            Figure("scale-out soak: rows duplicated", duplicated, 0, "rows", note)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows, one kill")
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
