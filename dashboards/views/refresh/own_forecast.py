"""The forecasts one viewer fetches itself: those of the cities the shared poll does not have."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from dashboards.server.forecast_store import empty_forecast
from dashboards.views.refresh.data import failed_rows
from dashboards.views.refresh.messages import describe
from dashboards.views.refresh.outlook import merge_forecasts
from weather.api import forecast_frame
from weather.errors import WeatherError
from weather.providers.base import Provider

log = logging.getLogger("dashboards.views.refresh.tab")


def ask_forecast(provider: Provider, cities: Sequence[str], hours: int) -> tuple[list, datetime]:
    """``provider``'s forecast of ``cities`` and when it was asked (on a job's thread)."""
    fetched_at = datetime.now(UTC)
    return provider.forecast(list(cities), hours), fetched_at


class OwnForecasts:
    """The newest forecast (metric) of each city a viewer fetched, and why a city's last one
    failed; a city whose new forecast failed keeps its older one."""

    def __init__(self) -> None:
        self.frame = empty_forecast()
        #: City -> short reason its last forecast failed ("rate limited", "bad answer", ...).
        self.problems: dict[str, str] = {}

    def take(self, cities: Sequence[str], outcome: Any, provider: str) -> None:
        """Keep ``outcome`` of ``ask_forecast`` for ``cities``, or the exception it raised."""
        if isinstance(outcome, Exception):
            log.warning("refresh: forecast failed: %s", describe(outcome))
            reason = outcome.status if isinstance(outcome, WeatherError) else "failed"
            problems = dict.fromkeys(cities, reason)
        else:
            results, fetched_at = outcome
            frame = forecast_frame(list(cities), results, fetched_at, "metric",
                                   provider=provider)
            failed = failed_rows(frame)
            for row in failed.itertuples():
                log.warning("refresh: forecast for %s: %s (%s)", row.city, row.status,
                            row.error)
            problems = dict(zip(failed["city"], failed["status"], strict=True))
            self.frame = merge_forecasts(self.frame, frame)
        for city in cities:
            self.problems.pop(city, None)
        self.problems.update(problems)

    def without(self, cities: Collection[str]) -> pd.DataFrame:
        """The rows of every city but ``cities``."""
        if self.frame.empty or not cities:
            return self.frame
        return self.frame[~self.frame["city"].isin(list(cities))]
