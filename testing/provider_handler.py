"""Request handling of the fake provider server: routing, validation, faults, answers."""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from testing import provider_payloads as payloads
from weather.cities import City, normalise_name

if TYPE_CHECKING:
    from testing.provider_server import ProviderServer

ENDPOINTS = {"/data/2.5/weather": "openweather", "/data/2.5/forecast": "openweather_forecast",
             "/v1/forecast": "forecast", "/v1/search": "geocoding"}
#: A fault endpoint narrower than "forecast": Open-Meteo requests asking ``hourly=`` (the
#: forecast, the past), so a fault can spare the current weather on the same path.
HOURLY_ENDPOINT = "forecast_hourly"
#: The endpoints that answer errors in OpenWeather's format.
OPENWEATHER_ENDPOINTS = ("openweather", "openweather_forecast")
_MALFORMED = b'{"cod": 200, "main": {"temp": 12.'


@dataclass
class Fault:
    """What to do instead of a normal answer; ``times`` None means until cleared."""

    kind: str
    times: int | None = None
    retry_after: float | str | None = 60
    endpoint: str | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it: ``pairs`` keeps repeated query keys, in order."""

    method: str
    path: str
    pairs: tuple[tuple[str, str], ...]
    time: float

    @property
    def query(self) -> dict[str, str]:
        return dict(self.pairs)


class Answer(Exception):
    """Stops handling with this status and body (raised from deep inside the handlers)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _bad_om(reason: str) -> Answer:
    return Answer(400, {"error": True, "reason": reason})


class FakeProviderHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests; shared state lives on ``server.fake``."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm and delayed
    # ACKs add ~40 ms to many answers.
    disable_nagle_algorithm = True
    server_version = "FakeProvider/1.0"
    #: Idle keep-alive connections are closed after this many seconds.
    timeout = 30

    @property
    def fake(self) -> ProviderServer:
        return self.server.fake  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.fake._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read the request log instead

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        pairs = tuple(parse_qsl(parts.query, keep_blank_values=True))
        self.fake._enter(RequestRecord("GET", parts.path, pairs, time.time()))
        try:
            self._answer_get(parts.path, dict(pairs))
        except Answer as answer:
            self._send(answer.status, answer.body, answer.headers)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # a fake server must never die on odd input
            self._send(500, {"error": True, "reason": f"fake server bug: {type(exc).__name__}"})
        finally:
            self.fake._leave()

    def _other(self) -> None:
        self._send(404, {"error": True, "reason": "Not Found"})

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other

    # -- plumbing ----------------------------------------------------------------------------
    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _apply(self, fault: Fault | None, endpoint: str) -> str | None:
        """Carry out a fault that replaces the answer; return a body-spoiling kind, if any."""
        if fault is None:
            return None
        kind = fault.kind
        if kind in ("missing_field", "wrong_type"):
            return kind
        if kind in ("timeout", "refuse"):
            if kind == "timeout":
                self.fake._wait(self.fake.timeout_fault_s)
            # No answer at all: the client sees the connection close.
            self.close_connection = True
            raise ConnectionAbortedError
        if kind == "malformed":
            raise Answer(200, _MALFORMED)
        status = int(kind)
        table = payloads.OPENWEATHER_ERRORS if endpoint in OPENWEATHER_ENDPOINTS else \
            payloads.OPEN_METEO_ERRORS
        headers = {}
        if status == 429 and fault.retry_after is not None:
            retry = fault.retry_after
            headers["Retry-After"] = retry if isinstance(retry, str) else f"{retry:g}"
        raise Answer(status, table[status], headers)

    def _answer_get(self, path: str, query: dict[str, str]) -> None:
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            raise Answer(404, {"error": True, "reason": "Not Found"})
        fake = self.fake
        if endpoint == "forecast":
            cities = self._forecast_cities(query)
        else:
            cities = [query.get("q" if endpoint in OPENWEATHER_ENDPOINTS else "name", "")]
        kinds = (endpoint, HOURLY_ENDPOINT) if endpoint == "forecast" and "hourly" in query \
            else (endpoint,)
        fault, faulty_city = fake._take_fault(kinds, cities)
        if fake._wait(fake.latency_s):
            raise ConnectionAbortedError
        spoil = self._apply(fault, endpoint)
        body = {"openweather": self._openweather, "forecast": self._forecast,
                "openweather_forecast": self._openweather_forecast,
                "geocoding": self._geocoding}[endpoint](query)
        if spoil:
            items = body if isinstance(body, list) else [body]
            # In a batch, a city's spoilt field spoils that city's location only.
            if endpoint == "forecast" and faulty_city is not None:
                items = [item for item, name in zip(items, cities, strict=True)
                         if name == faulty_city]
            for item in items:
                payloads.break_field(item, endpoint, spoil)
        raise Answer(200, body)

    # -- OpenWeather ---------------------------------------------------------------------------
    def _openweather(self, query: dict[str, str]) -> dict[str, Any]:
        place, units = self._openweather_place(query)
        return payloads.openweather_body(place, self.fake.observation_time(), units)

    def _openweather_place(self, query: dict[str, str]) -> tuple[City, str]:
        """The place and units an OpenWeather query asks for (key checked), or its error."""
        fake = self.fake
        key = query.get("appid", "")
        valid = fake.valid_keys
        if not key or (valid is not None and key not in valid):
            raise Answer(401, payloads.OPENWEATHER_ERRORS[401])
        units = query.get("units", "standard")
        units = units if units in ("standard", "metric", "imperial") else "standard"
        if "q" in query:
            q = query["q"].strip()
            if not q:
                raise Answer(400, payloads.OPENWEATHER_ERRORS[400])
            # "City" or "City,country": try the whole text first (names may hold commas).
            place = fake._place(q) or fake._place(q.split(",")[0])
            if place is None:
                raise Answer(404, payloads.OPENWEATHER_ERRORS[404])
        elif "lat" in query and "lon" in query:
            lat, lon = _float(query["lat"]), _float(query["lon"])
            for name, value, bound in (("latitude", lat, 90), ("longitude", lon, 180)):
                if value is None or abs(value) > bound:
                    raise Answer(400, {"cod": "400", "message": f"wrong {name}"})
            place = fake._place_near(lat, lon)  # type: ignore[arg-type]
        else:
            raise Answer(400, payloads.OPENWEATHER_ERRORS[400])
        return place, units

    # -- OpenWeather 5-day forecast ------------------------------------------------------------
    def _openweather_forecast(self, query: dict[str, str]) -> dict[str, Any]:
        place, units = self._openweather_place(query)
        steps = payloads.OPENWEATHER_FORECAST_STEPS
        if "cnt" in query:
            try:
                steps = int(query["cnt"])
            except ValueError:
                raise Answer(400, {"cod": "400", "message": f"{query['cnt']} is not a "
                                   "valid cnt"}) from None
        steps = max(1, min(payloads.OPENWEATHER_FORECAST_STEPS, steps))
        return payloads.openweather_forecast_body(place, self.fake.observation_time(), units,
                                                  steps)

    # -- Open-Meteo forecast -------------------------------------------------------------------
    def _coordinates(self, query: dict[str, str]) -> list[tuple[float, float]]:
        lists = []
        for key, bound, label in (("latitude", 90, "Latitude"), ("longitude", 180, "Longitude")):
            if key not in query:
                raise _bad_om(f"Value of type 'Float' required for key '{key}'.")
            values = []
            for text in query[key].split(","):
                value = _float(text)
                if value is None:
                    raise _bad_om(f"Cannot initialize Float from invalid String value "
                                  f"{text} for key {key}")
                if abs(value) > bound:
                    raise _bad_om(f"{label} must be in range of -{bound} to {bound}°. "
                                  f"Given: {value}.")
                values.append(value)
            lists.append(values)
        if len(lists[0]) != len(lists[1]):
            raise _bad_om("Parameter 'latitude' and 'longitude' must have the same number "
                          "of elements")
        return list(zip(lists[0], lists[1], strict=True))

    def _forecast_cities(self, query: dict[str, str]) -> list[str]:
        """The names of the requested locations (``"lat,lon"`` for places the server lacks)."""
        try:
            coordinates = self._coordinates(query)
        except Answer:
            return []
        return [self.fake._place_near(lat, lon).name for lat, lon in coordinates]

    def _forecast(self, query: dict[str, str]) -> dict[str, Any] | list[dict[str, Any]]:
        coordinates = self._coordinates(query)
        variables = [v for v in query.get("current", "").split(",") if v]
        for name in variables:
            if name not in payloads.OPEN_METEO_VARIABLES:
                raise _bad_om(f"Cannot initialize WeatherVariable from invalid String value "
                              f"{name} for key current")
        options = {}
        for key, accepted, default in (
                ("temperature_unit", payloads.TEMPERATURE_UNITS, "celsius"),
                ("wind_speed_unit", payloads.WIND_UNITS, "kmh"),
                ("timeformat", ("iso8601", "unixtime"), "iso8601")):
            value = query.get(key) or default
            if value not in accepted:
                raise _bad_om(f"Cannot initialize {key} from invalid String value {value}")
            options[key] = value
        obs_t = self.fake.observation_time()
        items = [payloads.open_meteo_location(self.fake._place_near(lat, lon), obs_t,
                                              variables, **options)
                 for lat, lon in coordinates]
        self._add_hourly(items, coordinates, query, options, obs_t)
        return items[0] if len(items) == 1 else items

    # -- Open-Meteo hourly arrays: the recent past (past_days) and the forecast ------------------
    def _add_hourly(self, items: list[dict[str, Any]], coordinates: list[tuple[float, float]],
                    query: dict[str, str], options: dict[str, str], obs_t: int) -> None:
        """Add ``hourly_units`` and ``hourly`` when asked: from 00:00 GMT ``past_days`` days
        before today to the end of ``forecast_days`` days from today."""
        past_days = _day_count(query, "past_days", 0, payloads.PAST_DAYS_MAX, "Past days")
        forecast_days = _day_count(query, "forecast_days", payloads.OPEN_METEO_FORECAST_DAYS,
                                   payloads.FORECAST_DAYS_MAX, "Forecast days")
        variables = [v for v in query.get("hourly", "").split(",") if v]
        for name in variables:
            if name not in payloads.OPEN_METEO_VARIABLES:
                raise _bad_om(f"Cannot initialize WeatherVariable from invalid String value "
                              f"{name} for key hourly")
        if not variables:
            return
        first_t = obs_t - obs_t % 86_400 - past_days * 86_400
        hours = (past_days + forecast_days) * 24
        nulls = self.fake.hourly_nulls
        for item, (lat, lon) in zip(items, coordinates, strict=True):
            item.update(payloads.open_meteo_hourly(self.fake._place_near(lat, lon), first_t,
                                                   hours, variables, nulls=nulls, **options))

    # -- Open-Meteo geocoding ------------------------------------------------------------------
    def _geocoding(self, query: dict[str, str]) -> dict[str, Any]:
        name = normalise_name(query.get("name", ""))
        try:
            count = max(1, min(100, int(query.get("count", "10"))))
        except ValueError:
            raise _bad_om("Cannot initialize Int from invalid String value for key count") from None
        # Like upstream: one character finds nothing, two exact matches only, more fuzzy.
        matches = []
        if len(name) >= 2:
            exact = self.fake._place(name)
            matches = [exact] if exact else []
            if len(name) >= 3:
                matches += [c for c in self.fake._places_named(name) if c not in matches]
        body: dict[str, Any] = {"generationtime_ms": 0.5}
        if matches:
            body["results"] = [payloads.geocoding_result(c) for c in matches[:count]]
        return body


def _day_count(query: dict[str, str], key: str, default: int, bound: int, label: str) -> int:
    """``past_days``/``forecast_days`` as Open-Meteo checks them: 400 outside 0..bound."""
    text = query.get(key)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _bad_om(f"Cannot initialize Int from invalid String value {text} for key "
                      f"{key}") from None
    if not 0 <= value <= bound:
        raise _bad_om(f"{label} is invalid. Allowed range 0 to {bound}.")
    return value


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None

