"""One forecast poll of 30 cities beside one current-weather poll of them, for each provider.

Run with ``python -m bench.forecast [--quick]``. The fake provider server answers every
request after 150 ms. Open-Meteo asks all 30 cities in one request for either; OpenWeather
asks one request per city, 30 at once. The baseline column is the current-weather poll of
the same cities through the same client: a forecast poll should cost about the same round
trips, its larger answers (48 hours a city) aside.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench.apps import KEY, LATENCY_S, city_names
from bench.harness import Figure, median, print_table
from testing.provider_server import ProviderServer
from weather.errors import WeatherError
from weather.providers import OpenMeteoProvider, OpenWeatherProvider, Provider

CITIES = 30
HOURS = 48
PATHS = {"open-meteo": ("/v1/forecast", "/v1/forecast"),
         "openweather": ("/data/2.5/weather", "/data/2.5/forecast")}


def _timed(fn: Callable[[], list], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, in seconds; every city must succeed."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        results = fn()
        times.append(time.perf_counter() - started)
        failed = [r for r in results if isinstance(r, WeatherError)]
        if failed:
            raise RuntimeError(f"{len(failed)} cities failed, e.g. {failed[0]}")
    return median(times)


def _measure(name: str, provider: Provider, server: ProviderServer, cities: tuple[str, ...],
             repeats: int) -> Figure:
    current_path, forecast_path = PATHS[name]
    provider.current(cities)  # warm up: connections, imports
    provider.forecast(cities, HOURS)
    server.reset()
    current_s = _timed(lambda: provider.current(cities), repeats)
    current_requests = server.count(current_path) / repeats
    server.reset()
    forecast_s = _timed(lambda: provider.forecast(cities, HOURS), repeats)
    forecast_requests = server.count(forecast_path) / repeats
    asked = (f"requests per poll: forecast {forecast_requests:g} (at most "
             f"{server.max_in_flight} in flight), current {current_requests:g}")
    return Figure(
        f"forecast poll of {len(cities)} cities, {HOURS} h ({name})", forecast_s, current_s,
        "s", f"baseline: current-weather poll of the same cities; {asked}; "
        f"server latency {server.latency_s * 1e3:.0f} ms; median of {repeats}")


def run(quick: bool) -> list[Figure]:
    repeats = 3 if quick else 7
    cities = city_names(CITIES)
    with ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) as server:
        providers = {
            "open-meteo": OpenMeteoProvider(base_url=server.url, geocoding_base_url=server.url),
            "openweather": OpenWeatherProvider(KEY, base_url=server.url),
        }
        return [_measure(name, provider, server, cities, repeats)
                for name, provider in providers.items()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.forecast",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    print_table(run(parser.parse_args().quick))
