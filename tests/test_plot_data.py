"""What the Real Time plots draw: segments joining each city's readings, and its newest one."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboards.views.realtime import plot_data

COLORS = {"Fresno": "#ff7f0e", "Davis": "#1f77b4", "Napa": "#2ca02c"}


def rows(*readings: tuple[str, int, float]) -> pd.DataFrame:
    """History rows: (city, minute, temperature), humidity and wind made up from them."""
    return pd.DataFrame({
        "city": [c for c, _, _ in readings],
        "time": pd.to_datetime([f"2026-12-01 12:{m:02d}" for _, m, _ in readings], utc=True),
        "temperature": [t for _, _, t in readings],
        "humidity": [50.0 + t for _, _, t in readings],
        "wind_speed": [1.0] * len(readings),
    })


def test_segments_join_each_citys_readings_in_time_order():
    """Test that a city's readings become the segments between consecutive ones, in its colour."""
    new = plot_data.readings(rows(("Fresno", 2, 3.0), ("Davis", 0, 9.0), ("Fresno", 0, 1.0),
                                  ("Fresno", 1, 2.0), ("Davis", 1, 8.0)), list(COLORS))
    seg = plot_data.segments(new, None, COLORS)["temperature"]
    fresno = seg[seg["city"] == "Fresno"]
    assert list(fresno["temperature_start"]) == [1.0, 2.0]
    assert list(fresno["temperature"]) == [2.0, 3.0]
    assert (fresno["start"] < fresno["time"]).all()
    assert list(seg.loc[seg["city"] == "Davis", "temperature"]) == [8.0]
    assert set(seg.loc[seg["city"] == "Davis", "color"]) == {COLORS["Davis"]}
    assert seg["time"].is_monotonic_increasing  # a rollover drops the oldest first


def test_new_segments_continue_from_the_newest_drawn_reading():
    """Test that an update's first segment of a city starts where its line ended."""
    cities = list(COLORS)
    first = plot_data.readings(rows(("Fresno", 0, 1.0), ("Fresno", 1, 2.0), ("Davis", 1, 7.0)),
                               cities)
    newest = plot_data.newest_readings(first, None, cities)
    update = plot_data.readings(rows(("Fresno", 2, 5.0), ("Davis", 2, 6.0)), cities)
    seg = plot_data.segments(update, newest, COLORS)["humidity"]
    assert sorted(zip(seg["city"], seg["humidity_start"], seg["humidity"], strict=True)) == [
        ("Davis", 57.0, 56.0), ("Fresno", 52.0, 55.0)]


def test_newest_readings_keep_a_row_per_city_in_order_empty_until_it_answers():
    """Test that the dots have one row per chosen city, the newest reading or missing."""
    cities = ["Napa", "Fresno", "Davis"]
    older = plot_data.newest_readings(plot_data.readings(rows(("Fresno", 0, 1.0)), cities),
                                      None, cities)
    newest = plot_data.newest_readings(
        plot_data.readings(rows(("Davis", 3, 4.0), ("Fresno", 2, 2.5)), cities), older, cities)
    assert list(newest["city"]) == cities
    assert newest["temperature"].tolist()[1:] == [2.5, 4.0]
    assert pd.isna(newest.loc[0, "temperature"]) and pd.isna(newest.loc[0, "time"])
    dots = plot_data.markers(newest, "temperature", COLORS)
    assert list(dots["color"]) == [COLORS[c] for c in cities]


def test_readings_keep_only_the_chosen_cities_with_naive_utc_times():
    """Test that the plots take the chosen cities' rows, times in UTC without a zone."""
    chosen = plot_data.readings(rows(("Fresno", 5, 1.0), ("Napa", 4, 2.0)), ["Napa"])
    assert list(chosen["city"]) == ["Napa"]
    assert chosen["time"].dt.tz is None
    assert chosen["time"].iloc[0] == pd.Timestamp("2026-12-01 12:04")


def test_spans_cover_segments_and_dots_and_are_none_when_nothing_is_drawn():
    """Test that the axis spans reach from the first segment's start to the newest dot."""
    cities = list(COLORS)
    new = plot_data.readings(rows(("Fresno", 0, 1.0), ("Fresno", 1, -2.0), ("Davis", 3, 7.0)),
                             cities)
    seg = plot_data.segments(new, None, COLORS)["temperature"]
    newest = plot_data.newest_readings(new, None, cities)
    start, end = plot_data.time_span([seg, newest])
    assert (start, end) == (pd.Timestamp("2026-12-01 12:00").to_datetime64(),
                            pd.Timestamp("2026-12-01 12:03").to_datetime64())
    assert plot_data.value_span([seg, newest], "temperature") == pytest.approx((-2.0, 7.0))
    empty = plot_data.newest_readings(pd.DataFrame(), None, cities)
    assert plot_data.time_span([seg.iloc[0:0], empty]) is None
