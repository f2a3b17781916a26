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


def update_bytes(cities: tuple[str, ...]) -> Figure:
    """Bytes one viewer's page receives when a new forecast replaces the drawn one.

    The floor is the forecast points it replaces, as plain binary pairs: 48 hours of each
    city on each of the three plots, a float64 time and value each.
    """
    from bokeh.document import Document
    from bokeh.protocol import Protocol

    from dashboards.server.feed import WeatherFeed
    from dashboards.server.forecast import ForecastPoll
    from dashboards.server.forecast_store import ForecastStore
    from dashboards.server.history import History
    from dashboards.views.realtime.tab import StreamingTab
    from weather.providers.demo import DemoProvider

    clock = [time.time()]
    provider = DemoProvider(clock=lambda: clock[0])
    poll = ForecastPoll(provider, cities, ForecastStore(":memory:"), clock=lambda: clock[0])
    poll.poll_now()
    feed = WeatherFeed(provider, cities, History(":memory:"))
    feed.poll_now()
    tab = StreamingTab(feed=feed, forecast=poll)
    doc = Document()
    doc.add_root(tab.__panel__().get_root(doc))
    tab.page_loaded()
    events = []
    doc.on_change(events.append)
    clock[0] += 60
    poll.poll_now()
    feed.fanout.publish(feed.history.frame().iloc[0:0])  # a push with nothing new
    tab.settings.units = tab.settings.units  # no change: the push alone redraws
    feed.poll_now()
    mine = [e for e in events if getattr(e, "model", None) is tab.forecast_lines]
    message = Protocol().create("PATCH-DOC", mine)
    sent = (len(message.header_json) + len(message.metadata_json) + len(message.content_json)
            + sum(memoryview(buffer.data).nbytes for buffer in message.buffers))
    points = len(cities) * (HOURS + 1) * 3
    tab.close()
    return Figure(f"websocket bytes of a forecast update per viewer, {len(cities)} cities",
                  sent, points * 16, "B",
                  f"floor: the {points} points it replaces as float64 time and value pairs")


def run(quick: bool) -> list[Figure]:
    repeats = 3 if quick else 7
    cities = city_names(CITIES)
    with ProviderServer(latency_s=LATENCY_S, valid_keys={KEY}) as server:
        providers = {
            "open-meteo": OpenMeteoProvider(base_url=server.url, geocoding_base_url=server.url),
            "openweather": OpenWeatherProvider(KEY, base_url=server.url),
        }
        return [*(_measure(name, provider, server, cities, repeats)
                  for name, provider in providers.items()),
                update_bytes(city_names(7)), update_bytes(cities)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.forecast",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    print_table(run(parser.parse_args().quick))
