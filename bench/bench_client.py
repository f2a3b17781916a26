"""How long one poll of the seven California cities takes: our client vs the article's loop.

Run with ``python -m bench.bench_client``. The fake provider server answers every request
after ``latency_s`` (150 ms by default, a typical round trip to OpenWeather), so the figures
show how many round trips a poll costs rather than how fast this machine is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from bench.harness import Figure, median, print_table
from testing.provider_server import ProviderServer
from weather import weather_data
from weather.cities import CALIFORNIA_CITIES
from weather.providers import OpenWeatherProvider

KEY = "bench-key"


def _timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return median(times)


def _article_loop(base_url: str, cities: tuple[str, ...]) -> list[dict]:
    """The article's way: one blocking ``requests.get`` per city, one after the other."""
    rows = []
    for city in cities:
        url = f"{base_url}/data/2.5/weather?q={city}&appid={KEY}&units=imperial"
        rows.append(requests.get(url, timeout=10).json())
    return rows


def run(latency_s: float = 0.15, repeats: int = 5, quiet: bool = False) -> dict[str, float]:
    """Measure and return the figures (seconds, and ratios); print them unless ``quiet``."""
    cities = CALIFORNIA_CITIES
    with ProviderServer(latency_s=latency_s, valid_keys={KEY}) as server:
        provider = OpenWeatherProvider(KEY, base_url=server.url)
        weather_data(cities, provider=provider)  # warm up: connections, imports
        ours_s = _timed(lambda: weather_data(cities, provider=provider), repeats)
        single_s = _timed(lambda: weather_data(cities[:1], provider=provider), repeats)
        serial_s = _timed(lambda: _article_loop(server.url, cities), repeats)
        max_in_flight = server.max_in_flight
    figures = {
        "cities": float(len(cities)),
        "latency_s": latency_s,
        "poll_s": ours_s,
        "single_request_s": single_s,
        "article_serial_s": serial_s,
        "poll_vs_single": ours_s / single_s,
        "article_vs_single": serial_s / single_s,
        "article_vs_poll": serial_s / ours_s,
        "max_in_flight": float(max_in_flight),
    }
    if not quiet:
        print_table(as_figures(figures))
    return figures


def as_figures(figures: dict[str, float]) -> list[Figure]:
    """The figures as report rows for ``bench.harness`` (ours vs the article's loop)."""
    n = int(figures["cities"])
    return [
        Figure(f"poll of {n} cities (OpenWeather)", figures["poll_s"],
               figures["article_serial_s"], "s",
               f"server latency {figures['latency_s'] * 1e3:.0f} ms; baseline: serial loop"),
        Figure("poll / one request", figures["poll_vs_single"], figures["article_vs_single"],
               "×", f"one request: {figures['single_request_s'] * 1e3:.0f} ms; goal ≤ 1.3"),
    ]


if __name__ == "__main__":
    result = run()
    print(f"\npoll {result['poll_s'] * 1e3:.0f} ms, one request "
          f"{result['single_request_s'] * 1e3:.0f} ms, article loop "
          f"{result['article_serial_s'] * 1e3:.0f} ms: poll = {result['poll_vs_single']:.2f}× "
          f"one request, article = {result['article_vs_single']:.2f}× one request")
