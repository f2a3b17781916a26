"""The interface every provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from weather.errors import ConfigError, NoHistoryError, WeatherError
from weather.models import Observation

if TYPE_CHECKING:
    from weather.config import ClientConfig
    from weather.http import HttpClient

#: What a provider returns for one city: the observation, or why there is none.
CityResult = Observation | WeatherError

#: The most days of past observations a provider is asked for (Open-Meteo's ``past_days``).
PAST_DAYS_MAX = 92


def check_past_days(days: object) -> int:
    """Return ``days`` as an int from 1 to ``PAST_DAYS_MAX``; ``ConfigError`` otherwise."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= PAST_DAYS_MAX:
        raise ConfigError("days", f"past days must be a whole number from 1 to "
                          f"{PAST_DAYS_MAX}, got {days!r}")
    return days


class Provider(ABC):
    """A source of current weather for a list of city names.

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

    def past(self, cities: Sequence[str], days: int, *, step_s: float = 3600.0,
             now_s: float | None = None) -> Iterable[Observation]:
        """Observations of the ``days`` before ``now_s`` (default: now).

        ``step_s`` is the spacing a simulated provider uses; real ones give what they keep
        (hourly for Open-Meteo). Any failure raises before anything is returned, so a caller
        never holds part of an answer. Providers without history raise ``NoHistoryError``.
        """
        raise NoHistoryError(f"the {self.name} provider has no past observations")
