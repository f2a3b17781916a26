"""The Refresh table's next 24 h high and low: the window, the units, missing cities, cache."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboards.views.refresh import outlook
from testing.provider_server import ProviderServer
from weather.api import forecast_frame
from weather.cache import CachedProvider
from weather.errors import NotFoundError, RateLimitError
from weather.http import HttpClient
from weather.models import Forecast, ForecastPoint
from weather.providers import OpenWeatherProvider
from weather.providers.base import CityResult, ForecastResult, Provider
from weather.units import c_to_f, ms_to_mph

NOW_S = 1_796_170_000.0
NOW = datetime.fromtimestamp(NOW_S, UTC)


def point(offset: timedelta, temperature_c: float, humidity: float = 50.0,
          wind_ms: float = 3.0) -> ForecastPoint:
    return ForecastPoint(NOW + offset, temperature_c, humidity, wind_ms)


def frame(results: dict[str, ForecastResult]) -> pd.DataFrame:
    return forecast_frame(list(results), list(results.values()), NOW, "metric", "test")


def forecast(city: str, *points: ForecastPoint) -> Forecast:
    return Forecast(city, 1.0, 2.0, tuple(points), "test")


def test_only_points_from_now_to_exactly_24_hours_later_count():
    """Test that the window is [now, now + 24 h]: a point a second before now or a second
    past 24 h is left out, however extreme; points at both ends count."""
    points = forecast(
        "Fresno",
        point(timedelta(seconds=-1), 40.0),            # just past: left out
        point(timedelta(0), 12.0),                    # now: counts
        point(timedelta(hours=12), 20.0),
        point(timedelta(hours=24), 5.0),              # exactly 24 h: counts
        point(timedelta(hours=24, seconds=1), -30.0),  # just beyond: left out
    )
    table = outlook.high_low(frame({"Fresno": points}), ["Fresno"], "temperature", "metric",
                             now_s=NOW_S)
    assert table.to_dict("records") == [{"city": "Fresno", "high": 20.0, "low": 5.0}]

    later = outlook.high_low(frame({"Fresno": points}), ["Fresno"], "temperature", "metric",
                             now_s=NOW_S + 1)
    # One second on, the point at now has passed and the one at 24 h 1 s is in.
    assert later.to_dict("records") == [{"city": "Fresno", "high": 20.0, "low": -30.0}]


@pytest.mark.parametrize(("column", "convert"), [
    ("temperature", c_to_f), ("wind_speed", ms_to_mph), ("humidity", lambda v: v)])
def test_high_and_low_are_in_the_viewers_units(column, convert):
    """Test that imperial values are converted from the metric forecast, metric kept."""
    points = forecast("Fresno", point(timedelta(hours=1), 10.0, 40.0, 2.0),
                      point(timedelta(hours=5), 25.0, 90.0, 11.0))
    metric = outlook.high_low(frame({"Fresno": points}), ["Fresno"], column, "metric",
                              now_s=NOW_S)
    imperial = outlook.high_low(frame({"Fresno": points}), ["Fresno"], column, "imperial",
                                now_s=NOW_S)
    values = [getattr(p, {"temperature": "temperature_c", "humidity": "humidity_pct",
                          "wind_speed": "wind_speed_ms"}[column]) for p in points.points]
    assert metric[["high", "low"]].iloc[0].tolist() == [max(values), min(values)]
    assert imperial[["high", "low"]].iloc[0].tolist() == pytest.approx(
        [round(convert(max(values)), 1), round(convert(min(values)), 1)])


def test_a_missing_failed_or_too_old_city_gets_no_high_or_low_and_a_line_why():
    """Test that a city with no rows, a failed forecast or only past points has NaN, in the
    order asked, and each is named by a plain-text line with its reason."""
    data = frame({
        "Fresno": forecast("Fresno", point(timedelta(hours=2), 11.0)),
        "<img src=x onerror=alert(1)>": RateLimitError("slow down"),
        "Old": forecast("Old", point(timedelta(hours=-3), 11.0)),
    })
    cities = ["Atlantis", "Fresno", "<img src=x onerror=alert(1)>", "Old"]
    table = outlook.high_low(data, cities, "temperature", "metric", now_s=NOW_S)
    assert table["city"].tolist() == cities
    assert [math.isnan(v) for v in table["high"]] == [True, False, True, True]
    lines = outlook.problem_lines(cities, table, {"<img src=x onerror=alert(1)>": "rate limited"})
    assert lines == [
        "No forecast for Atlantis (none for the next 24 h yet).",
        "No forecast for <img src=x onerror=alert(1)> (rate limited).",
        "No forecast for Old (none for the next 24 h yet).",
    ]
    # A city that still has an older forecast is shown, and its line says so.
    kept = outlook.problem_lines(["Fresno"], table, {"Fresno": "timeout"})
    assert kept == ["Forecast for Fresno not updated (timeout); its high and low are from an "
                    "older one."]


def test_the_table_gets_the_columns_after_the_quantities_with_titled_units():
    """Test that high and low follow the current values and their headers say the quantity
    and the unit."""
    table = pd.DataFrame({"city": ["A", "B"], "temperature": [1.0, 2.0], "time": ["", ""],
                          "status": ["ok", "ok"]})
    hl = pd.DataFrame({"city": ["B", "A"], "high": [9.0, 7.0], "low": [3.0, 1.0]})
    out = outlook.with_outlook(table, hl)
    assert out.columns.tolist() == ["city", "temperature", "high", "low", "time", "status"]
    assert out["high"].tolist() == [7.0, 9.0]
    assert outlook.outlook_header("temperature", "imperial") == "Next 24 h temp (°F)"
    assert outlook.outlook_header("wind_speed", "metric") == "Next 24 h wind (m/s)"
    assert outlook.outlook_header("humidity", "imperial") == "Next 24 h humidity (%)"


def test_a_failed_new_forecast_keeps_the_older_one():
    """Test that merging keeps a city's older forecast when its new one failed."""
    older = frame({"Fresno": forecast("Fresno", point(timedelta(hours=1), 11.0)),
                   "Davis": forecast("Davis", point(timedelta(hours=1), 12.0))})
    new = frame({"Fresno": NotFoundError("gone"),
                 "Davis": forecast("Davis", point(timedelta(hours=1), 30.0))})
    merged = outlook.merge_forecasts(older, new)
    assert dict(zip(merged["city"], merged["temperature"], strict=True)) == {
        "Fresno": 11.0, "Davis": 30.0}


class CountingForecasts(Provider):
    name = "counting"

    def __init__(self) -> None:
        self.asked: list[list[str]] = []
        self.failing: NotFoundError | None = None

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        raise AssertionError("not asked here")

    def forecast(self, cities: Sequence[str], hours: int = 48) -> list[ForecastResult]:
        self.asked.append(list(cities))
        return [self.failing if self.failing and c == self.failing.city
                else forecast(c, point(timedelta(hours=1), 10.0)) for c in cities]


def test_the_refresh_cache_reuses_a_forecast_for_its_ttl():
    """Test that a second viewer's forecast within ``forecast_ttl_s`` asks nothing, a later
    one asks again, and only the missing cities are asked."""
    now = [0.0]
    upstream = CountingForecasts()
    cached = CachedProvider(upstream, ttl_s=10, forecast_ttl_s=600, clock=lambda: now[0])
    cached.forecast(["Fresno"])
    now[0] = 599
    cached.forecast(["Fresno", "Davis"])
    assert upstream.asked == [["Fresno"], ["Davis"]]
    now[0] = 601
    cached.forecast(["Fresno"])
    assert upstream.asked[-1] == ["Fresno"]
    # A city's failure is kept only ``ttl_s``: it may have passed by the next Refresh.
    upstream.failing = NotFoundError("gone", city="Atlantis")
    assert isinstance(cached.forecast(["Atlantis"])[0], NotFoundError)
    now[0] = 605
    cached.forecast(["Atlantis"])
    assert len(upstream.asked) == 4
    now[0] = 612
    cached.forecast(["Atlantis"])
    assert upstream.asked[-1] == ["Atlantis"] and len(upstream.asked) == 5


def test_the_refresh_cache_keeps_no_forecast_of_a_rate_limited_call():
    """Test that a 429 on the forecast endpoint raises and is not cached: the next call asks
    the test server again and gets the forecast."""
    with ProviderServer(valid_keys={"K"}) as server:
        provider = OpenWeatherProvider("K", base_url=server.url,
                                       http=HttpClient(read_timeout_s=2, backoff_s=0.01))
        cached = CachedProvider(provider, forecast_ttl_s=600)
        server.set_fault("429", endpoint="openweather_forecast", times=1)
        with pytest.raises(RateLimitError):
            cached.forecast(["Fresno"])
        (result,) = cached.forecast(["Fresno"])
        assert isinstance(result, Forecast) and result.points
        cached.forecast(["Fresno"])
        assert server.count("/data/2.5/forecast") == 2
