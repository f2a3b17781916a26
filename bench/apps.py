"""Serve either design, ours or the article's, against the fake provider server on 127.0.0.1."""

from __future__ import annotations

import re
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence

from testing.served import REPO_ROOT, ServedApp
from weather.cities import CALIFORNIA_CITIES, CITIES

#: The two designs compared, and the floors beneath both: the file `panel serve` runs for each.
DESIGNS = {"ours": "app.py", "article": "bench/article_app.py", "floor": "bench/floor_app.py",
           "floor_push": "bench/floor_push_app.py"}
KEY = "bench-key"
#: A typical round trip to OpenWeather, added by the fake server to every request.
LATENCY_S = 0.15
#: Bokeh reaps a closed session after 1 s, checking every 0.5 s (the memory figures need it).
REAP_ARGS = ("--unused-session-lifetime", "1000", "--check-unused-sessions", "500")
# Every server made here, so an interrupted run can still stop them all (by PID).
_served: list[ServedApp] = []
_served_lock = threading.Lock()
# Panel logs these two lines per session at INFO level.
LAUNCHED = re.compile(r"Session \d+ launching")
DESTROYED = re.compile(r"Session \d+ destroyed")


def city_names(n: int) -> tuple[str, ...]:
    """The article's seven cities, then more of the built-in ones (all known to the server)."""
    extra = [name for name in CITIES if name not in CALIFORNIA_CITIES]
    names = (*CALIFORNIA_CITIES, *extra)
    if n > len(names):
        raise ValueError(f"only {len(names)} built-in cities, asked for {n}")
    return tuple(names[:n])


def serve(design: str, provider_url: str, *, cities: Sequence[str] = CALIFORNIA_CITIES,
          interval_s: float = 30.0, tiles: str = "none", db_path: str = ":memory:",
          args: Sequence[str] = (), env: Mapping[str, str | None] | None = None) -> ServedApp:
    """A `ServedApp` (not started) of ``design`` reading OpenWeather from ``provider_url``.

    Both designs get the same provider, cities, interval and tiles; the readiness check opens
    no session, so the first page a benchmark opens meets a cold server.
    """
    settings: dict[str, str | None] = {
        "WEATHER_PROVIDER": "openweather",
        "OPENWEATHER_API_KEY": KEY,
        "OPENWEATHER_BASE_URL": provider_url,
        "OPEN_METEO_BASE_URL": provider_url,
        "GEOCODING_BASE_URL": provider_url,
        "WEATHER_CITIES": ";".join(cities),
        "WEATHER_INTERVAL": f"{interval_s:g}",
        "WEATHER_DB": db_path,
        "WEATHER_TILES": tiles,
        "ARTICLE_TILES": tiles,
        "WEATHER_UNITS": None,
        # Never the developer's own history database.
        "XDG_DATA_HOME": tempfile.mkdtemp(prefix="bench-data-"),
        "PANEL_LOG_LEVEL": "info",
        **(env or {}),
    }
    app = ServedApp(REPO_ROOT / DESIGNS[design], env=settings, args=args,
                    ready_check="liveness", start_timeout_s=120.0)
    with _served_lock:
        _served.append(app)
    return app


def stop_everything() -> None:
    """Stop every server ``serve`` made that still runs (after an interruption)."""
    with _served_lock:
        apps = list(_served)
        _served.clear()
    stop_all(apps)


def start_all(apps: Sequence[ServedApp]) -> None:
    """Start the servers side by side (each start waits for its server to answer)."""
    errors: list[BaseException] = []

    def start(app: ServedApp) -> None:
        try:
            app.start()
        except BaseException as exc:  # reported below, after every start has returned
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(app,), daemon=True) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(150.0)
    if errors or any(thread.is_alive() for thread in threads):
        stop_all(apps)
        raise RuntimeError(f"a server did not start: {errors[:1]}")


def stop_all(apps: Sequence[ServedApp]) -> None:
    for app in apps:
        app.stop()


def sessions_alive(app: ServedApp) -> int:
    """Sessions the server built and has not destroyed yet, from Panel's session log lines."""
    log = app.log_text()
    return len(LAUNCHED.findall(log)) - len(DESTROYED.findall(log))


def wait_sessions(app: ServedApp, n: int, timeout_s: float) -> bool:
    """Wait until exactly ``n`` sessions are alive; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while sessions_alive(app) != n:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def mib(n_bytes: float) -> float:
    return n_bytes / 2**20
