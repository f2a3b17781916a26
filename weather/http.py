"""The one place the weather client talks HTTP: timeouts, retries, status codes -> errors.

Every failure becomes an error of ``weather.errors`` built from our own words. The text of a
``requests`` exception is never used: it carries the full URL, API key included. Secrets the
client is given are also scrubbed from urllib3's log records, which show full URLs at DEBUG.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from weather import errors

log = logging.getLogger(__name__)

#: Loggers of urllib3 that may print a URL with its query string.
URLLIB3_LOGGERS = ("urllib3", "urllib3.connectionpool", "urllib3.connection",
                   "urllib3.poolmanager", "urllib3.response", "urllib3.util.retry")
REDACTED = "[REDACTED]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``[REDACTED]`` (give longest first)."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class SecretFilter(logging.Filter):
    """Replaces known secret values (raw and URL-encoded) in log records by ``[REDACTED]``."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, secret: str) -> None:
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        with self._lock:
            # Longest first, so a secret containing another is replaced whole.
            merged = set(self._secrets) | {f for f in forms if f}
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            clean = self.redact(message)
            if clean != message:
                record.msg, record.args = clean, None
        return True


#: One filter per process, installed on urllib3's loggers the first time a secret is known.
SECRET_FILTER = SecretFilter()
_install_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    """Make sure ``secret`` never shows in urllib3's or our log records."""
    if not secret:
        return
    SECRET_FILTER.add(secret)
    with _install_lock:
        for name in (*URLLIB3_LOGGERS, "requests", "weather"):
            logger = logging.getLogger(name)
            if SECRET_FILTER not in logger.filters:
                logger.addFilter(SECRET_FILTER)


class _Session(requests.Session):
    """A ``requests.Session`` that reads the proxy and certificate settings once per host.

    requests looks them up in the environment on every request, which was a third of the
    client's CPU time when 30 cities are asked at once. The environment is read when a host
    is first asked, as requests does, and not again for the life of the process.
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], dict[str, Any]] = {}
        self._environment_lock = threading.Lock()

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        host = tuple(urlsplit(url)[:2])
        with self._environment_lock:
            found = self._environment.get(host)
            if found is None:
                found = super().merge_environment_settings(url, {}, None, None, None)
                self._environment[host] = found
        return {**found, "proxies": dict(found["proxies"])}


class HttpClient:
    """A shared ``requests.Session`` with timeouts, bounded retries and error mapping.

    Connection errors and 5xx answers are retried ``retries`` times, waiting ``backoff_s``,
    then twice that, and so on. Timeouts and 4xx answers are never retried: a timeout already
    cost the caller ``read_timeout_s``, and a 4xx will not change by asking again.
    """

    def __init__(self, *, connect_timeout_s: float = 3.05, read_timeout_s: float = 10.0,
                 retries: int = 2, backoff_s: float = 0.5, pool_size: int = 16,
                 secrets: Iterable[str | None] = ()) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._secrets: list[str] = []
        for secret in secrets:
            self.add_secret(secret)
        self.session = _Session()
        # Our own retry loop decides what is retried, so urllib3 must not retry on its own.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "weather-dashboard"

    def add_secret(self, secret: str | None) -> None:
        """Remember a secret sent in queries, so it is scrubbed from messages and logs."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)
            register_secret(secret)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def close(self) -> None:
        self.session.close()

    def get_json(self, url: str, params: Mapping[str, Any], *, service: str,
                 city: str | None = None) -> Any:
        """GET ``url`` with ``params`` and return the decoded JSON body.

        Raises the ``weather.errors`` error that says what went wrong, with ``city`` set.
        """
        parts = urlsplit(url)
        error: errors.WeatherError | None = None
        for attempt in range(1, self.retries + 2):
            if attempt > 1:
                time.sleep(self.backoff_s * 2 ** (attempt - 2))
            started = time.perf_counter()
            response, failure = self._send(url, params)
            elapsed_ms = (time.perf_counter() - started) * 1e3
            # Host and path only: the query string may hold the key.
            log.debug("GET %s%s -> %s in %.0f ms (attempt %d)", parts.netloc, parts.path,
                      response.status_code if response is not None else failure, elapsed_ms,
                      attempt)
            times = f"{attempt} time{'s' if attempt > 1 else ''}"
            if response is not None and response.status_code < 500:
                return self._decode(response, service, city)
            if response is not None:
                error = errors.ServerError(
                    f"{service} answered HTTP {response.status_code} {times}",
                    http_status=response.status_code, city=city)
            elif failure == "timeout":
                error = errors.RequestTimeout(
                    f"{service} did not answer within {self.read_timeout_s:g} s", city=city)
                break
            else:
                error = errors.UnreachableError(
                    f"could not connect to {service} at {parts.netloc} (tried {times})",
                    city=city)
        assert error is not None
        raise error

    def _send(self, url: str, params: Mapping[str, Any]) -> tuple[requests.Response | None, str]:
        """One request: the response, or None and "timeout" or "unreachable".

        The exception itself is dropped here, so it can never be chained to our errors.
        """
        try:
            response = self.session.get(url, params=dict(params),
                                        timeout=(self.connect_timeout_s, self.read_timeout_s))
        except requests.Timeout:
            return None, "timeout"
        except requests.ConnectionError as exc:
            # A read timeout while the body streams in surfaces as a ConnectionError.
            timed_out = bool(exc.args) and isinstance(exc.args[0], ReadTimeoutError)
            return None, "timeout" if timed_out else "unreachable"
        except requests.RequestException:
            return None, "unreachable"
        return response, ""

    def _decode(self, response: requests.Response, service: str, city: str | None) -> Any:
        status = response.status_code
        valid = True
        try:
            body = response.json()
        except ValueError:
            body, valid = None, False
        if status < 300:
            if not valid:
                raise errors.ParseError(f"{service} sent an answer that is not valid JSON",
                                        city=city)
            return body
        said = self._reason(body)
        if status == 401:
            raise errors.AuthError(
                f"the {service} API key was rejected (HTTP 401); check the key, and note that "
                f"a new key can take a couple of hours to be activated"
                + (f". {service} said: {said}" if said else ""), city=city)
        if status == 404:
            where = repr(city) if city else "the requested place"
            raise errors.NotFoundError(f"{service} does not know {where}", city=city)
        if status == 429:
            wait_s = parse_retry_after(response.headers.get("Retry-After"))
            when = "retry later" if wait_s is None else f"retry after {wait_s:g} s"
            raise errors.RateLimitError(f"{service} rate limit reached; {when}",
                                        retry_after_s=wait_s, city=city)
        raise errors.BadRequestError(said or f"HTTP {status}", city=city)

    def _reason(self, body: Any) -> str:
        """The provider's own explanation (``message`` or ``reason``), secrets removed."""
        if isinstance(body, dict):
            for key in ("message", "reason"):
                if isinstance(body.get(key), str) and body[key].strip():
                    return self.redact(body[key].strip())[:300]
        return ""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay in seconds or an HTTP date)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, round(when.timestamp() - current, 3))
