"""A fake OpenWeather + Open-Meteo server on 127.0.0.1, with knobs for latency and faults.

One ``ProviderServer`` answers ``/data/2.5/weather`` and ``/data/2.5/forecast`` (OpenWeather),
``/v1/forecast`` (Open-Meteo, ``current=`` and ``hourly=``) and ``/v1/search`` (Open-Meteo
geocoding) in the providers' own formats, so all three base URLs can point at ``server.url``::

    with ProviderServer(latency_s=0.15, valid_keys={"KEY"}) as server:
        server.set_fault("timeout", city="Fresno")     # one city
        server.set_fault("503", times=2)               # every request, twice, then fine
        ...
        server.count("/data/2.5/weather"), server.max_in_flight, server.requests[-1].query

Faults (``FAULTS``): ``timeout`` (no answer for ``timeout_fault_s``), ``refuse`` (close the
connection without answering), ``malformed`` (invalid JSON), ``missing_field`` and
``wrong_type`` (a 200 body with the temperature, or the geocoder's latitude, dropped or
``"hot"``; in a forecast, the first step's or hour's), and
``400``/``401``/``404``/``429``/``500``/``502``/``503`` (the provider's error body; 429 sends
``Retry-After``). Run standalone with
``python -m testing.provider_server --port 8765 --latency-ms 150 [--valid-key K]``.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer

from testing.provider_handler import (
    ENDPOINTS,
    HOURLY_ENDPOINT,
    FakeProviderHandler,
    Fault,
    RequestRecord,
)
from weather.cities import CITIES, City, normalise_name

__all__ = ["EXTRA_CITIES", "FAULTS", "Fault", "ProviderServer", "RequestRecord"]

FAULTS = ("timeout", "refuse", "malformed", "missing_field", "wrong_type",
          "400", "401", "404", "429", "500", "502", "503")
#: Places the server's geocoder knows beyond the client's built-in table.
EXTRA_CITIES = (
    City("Tromsø", 69.6492, 18.9553, "NO"), City("Ushuaia", -54.8019, -68.3030, "AR"),
    City("Timbuktu", 16.7666, -3.0026, "ML"), City("Alice Springs", -23.6980, 133.8807, "AU"),
    City("Washington, D.C.", 38.9072, -77.0369, "US"), City("Zürich", 47.3769, 8.5417, "CH"),
)


class ProviderServer:
    """The fake providers in a daemon thread; every knob may be changed while it runs."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, latency_s: float = 0.0,
                 valid_keys: Iterable[str] | None = None, data_period_s: float = 1.0,
                 timeout_fault_s: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._latency_s = latency_s
        self._valid_keys = None if valid_keys is None else frozenset(valid_keys)
        self._data_period_s = data_period_s
        self.timeout_fault_s = timeout_fault_s
        self.clock = clock
        self._faults: dict[str | None, Fault] = {}
        #: (unix time, hourly variable) pairs answered with ``null`` in ``hourly`` arrays.
        self.hourly_nulls: set[tuple[int, str]] = set()
        self._places = {normalise_name(c.name): c for c in (*CITIES.values(), *EXTRA_CITIES)}
        self._log: list[RequestRecord] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._connections: set[socket.socket] = set()
        self._httpd = ThreadingHTTPServer((host, port), FakeProviderHandler,
                                          bind_and_activate=False)
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = 128
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ProviderServer:
        self._httpd.server_bind()
        self._httpd.server_activate()
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="provider-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests sleeping in a latency or ``timeout`` fault end at once."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()

    def __enter__(self) -> ProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- knobs -------------------------------------------------------------------------------
    @property
    def latency_s(self) -> float:
        """Seconds every request waits before it is answered."""
        with self._lock:
            return self._latency_s

    @latency_s.setter
    def latency_s(self, value: float) -> None:
        with self._lock:
            self._latency_s = float(value)

    @property
    def valid_keys(self) -> frozenset[str] | None:
        """OpenWeather ``appid`` values accepted; None accepts any non-empty key."""
        with self._lock:
            return self._valid_keys

    @valid_keys.setter
    def valid_keys(self, keys: Iterable[str] | None) -> None:
        with self._lock:
            self._valid_keys = None if keys is None else frozenset(keys)

    @property
    def data_period_s(self) -> float:
        """Seconds between two observation times (``dt``, ``current.time``)."""
        with self._lock:
            return self._data_period_s

    @data_period_s.setter
    def data_period_s(self, value: float) -> None:
        if not value > 0:
            raise ValueError("data_period_s must be > 0")
        with self._lock:
            self._data_period_s = float(value)

    def observation_time(self) -> int:
        """The observation time served now: the clock floored to ``data_period_s``."""
        period = self.data_period_s
        return int(self.clock() // period * period)

    def set_fault(self, kind: str, city: str | None = None, *, times: int | None = None,
                  retry_after_s: float | str | None = 60, endpoint: str | None = None) -> None:
        """Answer with fault ``kind`` for ``city`` (None: every request) ``times`` times.

        ``endpoint`` limits it to ``"openweather"``, ``"openweather_forecast"``, ``"forecast"``
        (Open-Meteo, current and hourly), ``"forecast_hourly"`` (Open-Meteo's ``hourly=``
        requests only) or ``"geocoding"``;
        ``retry_after_s`` is the 429's ``Retry-After`` (seconds, an HTTP date, or None).
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; choose one of: {', '.join(FAULTS)}")
        if endpoint is not None and endpoint not in (*ENDPOINTS.values(), HOURLY_ENDPOINT):
            raise ValueError(f"unknown endpoint {endpoint!r}")
        with self._lock:
            self._faults[None if city is None else normalise_name(city)] = Fault(
                kind, times, retry_after_s, endpoint)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def add_city(self, name: str, lat: float, lon: float, country: str = "") -> None:
        """Teach the server (OpenWeather ``q`` and the geocoder) one more place."""
        with self._lock:
            self._places[normalise_name(name)] = City(name, lat, lon, country)

    def reset(self) -> None:
        """Forget faults, the request log and the in-flight maximum."""
        with self._lock:
            self._faults.clear()
            self._log.clear()
            self._max_in_flight = self._in_flight

    # -- what the server saw -----------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def count(self, path: str | None = None) -> int:
        """Requests received so far, on ``path`` only when given."""
        with self._lock:
            return sum(1 for r in self._log if path is None or r.path == path)

    @property
    def max_in_flight(self) -> int:
        """The most requests that were being handled at the same time."""
        with self._lock:
            return self._max_in_flight

    def wait_for_count(self, n: int, path: str | None = None, timeout_s: float = 5.0) -> bool:
        """Poll until ``count(path) >= n``; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.count(path) < n:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- used by the handler -----------------------------------------------------------------
    def _place(self, name: str) -> City | None:
        with self._lock:
            return self._places.get(normalise_name(name))

    def _places_named(self, prefix: str) -> list[City]:
        with self._lock:
            return [c for k, c in self._places.items() if k.startswith(prefix)]

    def _place_near(self, lat: float, lon: float) -> City:
        with self._lock:
            for place in self._places.values():
                if abs(place.lat - lat) < 0.01 and abs(place.lon - lon) < 0.01:
                    return place
        return City(f"{lat:.4f},{lon:.4f}", lat, lon)

    def _take_fault(self, endpoints: tuple[str, ...],
                    cities: list[str]) -> tuple[Fault | None, str | None]:
        """The fault for a request to any of ``endpoints`` about ``cities`` (theirs before
        the global one), counted.

        Returns the fault and the city it was set for (None for a global fault).
        """
        with self._lock:
            for city in [*cities, None]:
                key = None if city is None else normalise_name(city)
                fault = self._faults.get(key)
                if fault is not None and fault.endpoint in (None, *endpoints):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            del self._faults[key]
                    return fault, city
        return None, None

    def _enter(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._connections.add if alive else self._connections.discard)(conn)

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server stops first; True if it is stopping."""
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--data-period-s", type=float, default=1.0)
    parser.add_argument("--valid-key", action="append", default=None,
                        help="an accepted OpenWeather key (repeatable); default: any key")
    args = parser.parse_args(argv)
    server = ProviderServer(args.host, args.port, latency_s=args.latency_ms / 1000,
                            valid_keys=args.valid_key, data_period_s=args.data_period_s)
    server.start()
    print(f"http://{args.host}:{server.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
