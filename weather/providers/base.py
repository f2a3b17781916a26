"""The interface every provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from weather.errors import WeatherError
from weather.models import Observation

#: What a provider returns for one city: the observation, or why there is none.
CityResult = Observation | WeatherError


class Provider(ABC):
    """A source of current weather for a list of city names.

    ``current`` returns one result per city, in request order, in metric units. Failures that
    concern one city are returned in its place; failures that concern the whole account
    (``AuthError``, ``RateLimitError``) are raised.
    """

    name: ClassVar[str]

    @abstractmethod
    def current(self, cities: Sequence[str]) -> list[CityResult]:
        """Fetch the current weather for ``cities``."""
