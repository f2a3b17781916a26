"""The interface every provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from weather.errors import WeatherError
from weather.models import Observation

if TYPE_CHECKING:
    from weather.config import ClientConfig
    from weather.http import HttpClient

#: What a provider returns for one city: the observation, or why there is none.
CityResult = Observation | WeatherError


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
