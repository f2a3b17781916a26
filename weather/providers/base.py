"""The interface every provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from weather.errors import ConfigError, NoForecastError, NoHistoryError, WeatherError
from weather.models import Forecast, Observation

if TYPE_CHECKING:
    from weather.config import ClientConfig
    from weather.http import HttpClient

#: What a provider returns for one city: the observation, or why there is none.
CityResult = Observation | WeatherError
#: What a provider's forecast returns for one city: the forecast, or why there is none.
ForecastResult = Forecast | WeatherError

#: Hours of forecast asked for when the caller does not say.
DEFAULT_FORECAST_HOURS = 48
#: The longest forecast asked for: Open-Meteo's 16 days, less the day already begun.
MAX_FORECAST_HOURS = 15 * 24


def check_hours(hours: int) -> int:
    """``hours`` as an int from 1 to ``MAX_FORECAST_HOURS``; ``ConfigError`` otherwise."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not \
            1 <= hours <= MAX_FORECAST_HOURS:
        raise ConfigError("hours", f"must be a whole number of hours from 1 to "
                          f"{MAX_FORECAST_HOURS}, got {hours!r}")
    return hours


def forecast_window(now_s: float, hours: int) -> tuple[datetime, datetime]:
    """The times a forecast keeps: from the start of the current hour to ``hours`` from now."""
    now = datetime.fromtimestamp(now_s, tz=UTC)
    return now.replace(minute=0, second=0, microsecond=0), now + timedelta(hours=hours)

#: The most days of past observations a provider is asked for (Open-Meteo's ``past_days``).
PAST_DAYS_MAX = 92


def check_past_days(days: object) -> int:
    """Return ``days`` as an int from 1 to ``PAST_DAYS_MAX``; ``ConfigError`` otherwise."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= PAST_DAYS_MAX:
        raise ConfigError("days", f"past days must be a whole number from 1 to "
                          f"{PAST_DAYS_MAX}, got {days!r}")
    return days


class Provider(ABC):
    """A source of current weather (and forecasts) for a list of city names.

    ``current`` returns one result per city, in request order, in metric units. Failures that
    concern one city are returned in its place; failures that concern the whole account
    (``AuthError``, ``RateLimitError``) are raised.
    """

    name: ClassVar[str]

    @classmethod
    def from_config(cls, config: ClientConfig, http: HttpClient | None = None) -> Provider:
        """Build this provider from the client's settings (``http``: a shared client)."""
        raise TypeError(f"{cls.__name__} is not built from settings")

    @abstractmethod
    def current(self, cities: Sequence[str]) -> list[CityResult]:
        """Fetch the current weather for ``cities``."""

    def forecast(self, cities: Sequence[str],
                 hours: int = DEFAULT_FORECAST_HOURS) -> list[ForecastResult]:
        """Fetch the forecast of ``cities`` for the next ``hours`` hours, like ``current``.

        A provider without forecasts answers every city with ``NoForecastError``.
        """
        return [NoForecastError(f"the {self.name} provider has no forecast", city=str(c))
                for c in cities]

    def past(self, cities: Sequence[str], days: int, *, step_s: float = 3600.0,
             now_s: float | None = None) -> Iterable[Observation]:
        """Observations of the ``days`` before ``now_s`` (default: now).

        ``step_s`` is the spacing a simulated provider uses; real ones give what they keep
        (hourly for Open-Meteo). Any failure raises before anything is returned, so a caller
        never holds part of an answer. Providers without history raise ``NoHistoryError``.
        """
        raise NoHistoryError(f"the {self.name} provider has no past observations")
