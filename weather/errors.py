"""The errors raised by the weather client, one small tree for every way a lookup can fail.

::

    WeatherError                 base of everything below; ``.status`` is a short reason
    ├── ConfigError              a setting has a value we cannot use (also a ValueError)
    │   └── UnknownProviderError a provider name that is not registered
    ├── AuthError                the provider rejected the API key            "key rejected"
    ├── RateLimitError           too many requests; ``.retry_after_s``         "rate limited"
    ├── NotFoundError            the city is unknown                           "not found"
    ├── NoForecastError          the provider has no forecast for the city     "no forecast"
    ├── BadRequestError          the provider refused the query; ``.reason``   "bad request"
    ├── ServerError              5xx after the retries ran out                 "server error"
    ├── ParseError               the answer was not the JSON we expect         "bad answer"
    ├── NoHistoryError           the provider keeps no past observations       "no history"
    └── TransportError           no HTTP answer at all
        ├── UnreachableError     connection refused, DNS, reset               "unreachable"
        └── RequestTimeout       no answer within the read timeout            "timeout"

``AuthError`` and ``RateLimitError`` concern the whole account, so providers raise them;
the others concern one city and are returned in that city's place.
No message ever contains an API key: errors are built from our own words, never from the
text of a ``requests`` exception (which carries the full URL, query string included).
"""

from __future__ import annotations


class WeatherError(Exception):
    """Base of every error of the weather client."""

    status = "error"

    def __init__(self, message: str, *, city: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.city = city


class ConfigError(WeatherError, ValueError):
    """A setting has a value that cannot be used; ``setting`` names it."""

    status = "bad setting"

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class UnknownProviderError(ConfigError):
    """A provider name that is not registered; the message lists the valid names."""

    def __init__(self, name: str, valid: list[str], setting: str = "WEATHER_PROVIDER") -> None:
        super().__init__(
            setting, f"unknown provider {name!r}; choose one of: {', '.join(valid)}"
        )
        self.name = name
        self.valid = valid


class AuthError(WeatherError):
    """The provider rejected the API key (wrong, revoked, or not yet activated)."""

    status = "key rejected"


class RateLimitError(WeatherError):
    """The provider asked us to slow down; wait ``retry_after_s`` seconds when known."""

    status = "rate limited"

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, city: str | None = None
    ) -> None:
        super().__init__(message, city=city)
        self.retry_after_s = retry_after_s


class NotFoundError(WeatherError):
    """The provider or the geocoder does not know the city."""

    status = "not found"


class NoForecastError(WeatherError):
    """The provider offers no forecast for the city."""

    status = "no forecast"


class BadRequestError(WeatherError):
    """The provider refused the query (HTTP 400) and said why in ``reason``."""

    status = "bad request"

    def __init__(self, reason: str, *, city: str | None = None) -> None:
        super().__init__(f"the provider refused the request: {reason}", city=city)
        self.reason = reason


class ServerError(WeatherError):
    """The provider kept answering with a 5xx status."""

    status = "server error"

    def __init__(self, message: str, *, http_status: int, city: str | None = None) -> None:
        super().__init__(message, city=city)
        self.http_status = http_status


class ParseError(WeatherError):
    """The answer was not valid JSON, or lacked a field, or had a value of the wrong type."""

    status = "bad answer"


class NoHistoryError(WeatherError):
    """The provider (or its free tier) offers no past observations to backfill from."""

    status = "no history"


class TransportError(WeatherError):
    """No HTTP answer arrived."""

    status = "unreachable"


class UnreachableError(TransportError):
    """The connection failed: refused, reset, or the host name did not resolve."""

    status = "unreachable"


class RequestTimeout(TransportError):
    """The provider did not answer within the timeout."""

    status = "timeout"
