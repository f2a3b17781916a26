"""What the Real Time plots draw: segments joining each city's readings, and its newest one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboards.views.realtime import plot_data

COLORS = {"Fresno": "#ff7f0e", "Davis": "#1f77b4", "Napa": "#2ca02c"}
CITIES = list(COLORS)


def rows(*readings: tuple[str, int, float]) -> pd.DataFrame:
    """History rows: (city, minute, temperature), humidity and wind made up from them."""
    return pd.DataFrame({
        "city": [c for c, _, _ in readings],
        "time": pd.to_datetime([f"2026-12-01 12:{m:02d}" for _, m, _ in readings], utc=True),
        "temperature": [t for _, _, t in readings],
        "humidity": [50.0 + t for _, _, t in readings],
        "wind_speed": [1.0] * len(readings),
    })


def minute_ms(minute: int) -> float:
    return pd.Timestamp(f"2026-12-01 12:{minute:02d}", tz="UTC").value / 1e6


def test_segments_join_each_citys_readings_in_time_order():
    """Test that a city's readings become the segments between consecutive ones, in its colour."""
    new = rows(("Fresno", 2, 3.0), ("Davis", 0, 9.0), ("Fresno", 0, 1.0), ("Fresno", 1, 2.0),
               ("Davis", 1, 8.0))
    lines = pd.DataFrame(plot_data.drawing(new, None, CITIES, "metric", COLORS).lines)
    fresno = lines[lines["city"] == "Fresno"]
    assert list(fresno["temperature_start"]) == [1.0, 2.0]
    assert list(fresno["temperature"]) == [2.0, 3.0]
    assert list(fresno["start"]) == [minute_ms(0), minute_ms(1)]
    assert list(fresno["time"]) == [minute_ms(1), minute_ms(2)]
    assert list(lines.loc[lines["city"] == "Davis", "temperature"]) == [8.0]
    assert set(lines.loc[lines["city"] == "Davis", "color"]) == {COLORS["Davis"]}
    assert lines["time"].is_monotonic_increasing  # a rollover drops the oldest first
    assert set(lines.columns) == set(plot_data.LINE_COLUMNS)


def test_new_segments_continue_from_the_newest_reading_before_them():
    """Test that an update's first segment of a city starts where its line ended."""
    before = rows(("Fresno", 1, 2.0), ("Davis", 1, 7.0))
    update = rows(("Fresno", 2, 5.0), ("Davis", 2, 6.0))
    lines = plot_data.drawing(update, before, CITIES, "metric", COLORS).lines
    assert sorted(zip(lines["city"], lines["humidity_start"], lines["humidity"],
                      strict=True)) == [("Davis", 57.0, 56.0), ("Fresno", 52.0, 55.0)]


def test_dots_keep_a_row_per_city_in_order_empty_until_it_answers():
    """Test that the dots have one row per city, its newest reading or missing values."""
    cities = ["Napa", "Fresno", "Davis"]
    dots = plot_data.drawing(rows(("Davis", 3, 4.0), ("Fresno", 2, 2.5)),
                             rows(("Fresno", 0, 1.0)), cities, "metric", COLORS).dots
    assert list(dots["city"]) == cities
    assert dots["temperature"].tolist()[1:] == [2.5, 4.0]
    assert np.isnan(dots["temperature"][0]) and np.isnan(dots["time"][0])
    assert list(dots["color"]) == [COLORS[c] for c in cities]
    assert set(dots) == set(plot_data.DOT_COLUMNS)


def test_units_convert_and_other_cities_are_left_out():
    """Test that a drawing is in the viewer's units and holds only the cities asked for."""
    new = rows(("Fresno", 5, 10.0), ("Fresno", 6, 20.0), ("Napa", 4, 2.0))
    drawing = plot_data.drawing(new, None, ["Fresno"], "imperial", COLORS)
    assert set(drawing.lines["city"]) == {"Fresno"} and list(drawing.dots["city"]) == ["Fresno"]
    assert drawing.lines["temperature"].tolist() == pytest.approx([68.0])
    assert drawing.lines["temperature_start"].tolist() == pytest.approx([50.0])
    assert drawing.lines["humidity"].tolist() == [70.0]  # a percentage in both systems


def test_a_viewer_selects_its_cities_from_the_shared_drawing_which_stays_read_only():
    """Test that selecting cities keeps their segments and dots (in the viewer's order), and
    that the shared arrays cannot be changed in place by a viewer."""
    new = rows(("Fresno", 0, 1.0), ("Fresno", 1, 2.0), ("Davis", 0, 3.0), ("Davis", 1, 4.0))
    shared = plot_data.drawing(new, None, CITIES, "metric", COLORS)
    assert shared.select(CITIES) is shared
    mine = shared.select(["Davis", "Napa"])
    assert set(mine.lines["city"]) == {"Davis"} and len(mine) == 1
    assert list(mine.dots["city"]) == ["Davis", "Napa"]
    with pytest.raises(ValueError):
        shared.lines["temperature"][0] = 99.0


def test_an_empty_drawing_has_every_column_and_no_reading():
    """Test that a first paint with no history holds the columns and a missing dot per city."""
    empty = plot_data.empty(CITIES, COLORS)
    assert len(empty) == 0 and set(empty.lines) == set(plot_data.LINE_COLUMNS)
    assert list(empty.dots["city"]) == CITIES and np.isnan(empty.dots["time"]).all()
