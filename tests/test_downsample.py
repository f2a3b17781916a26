"""Downsampling to screen resolution: peaks and dips survive, point count bounded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboards.server.downsample import (
    MAX_POINTS,
    downsample,
    minmax_indices,
    points_for_width,
)

T0 = pd.Timestamp("2026-09-01", tz="UTC")


def history(cities: dict[str, np.ndarray], step_s: float = 30.0) -> pd.DataFrame:
    parts = [pd.DataFrame({"city": name,
                           "time": T0 + pd.to_timedelta(np.arange(len(values)) * step_s, "s"),
                           "temperature": values})
             for name, values in cities.items()]
    return pd.concat(parts, ignore_index=True)


def smooth(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 15 + 5 * np.sin(np.arange(n) / 500) + rng.normal(0, 0.2, n)


def test_a_single_spike_and_dip_survive_among_a_month_of_readings():
    """Test that one reading far above and one far below the rest are both kept."""
    values = smooth(86_400)  # 30 days of 30-second polls
    values[12_345] = 48.0
    values[70_001] = -20.0
    out = downsample(history({"Fresno": values}), "temperature")
    assert len(out) <= MAX_POINTS
    assert out["temperature"].max() == 48.0 and out["temperature"].min() == -20.0
    spike_time = T0 + pd.Timedelta(seconds=12_345 * 30)
    assert spike_time in set(out["time"])


def test_point_count_is_bounded_per_city_and_order_is_kept():
    """Test that each city gets at most max_points, in time order, with its own extremes."""
    frame = history({"A": smooth(50_000, 1), "B": smooth(20_000, 2), "C": smooth(10, 3)})
    out = downsample(frame, "temperature", max_points=1_000)
    counts = out.groupby("city").size()
    assert counts["A"] <= 1_000 and counts["B"] <= 1_000 and counts["C"] == 10
    assert counts["A"] >= 900  # not thinned far below what the screen can show
    for city, group in out.groupby("city"):
        assert group["time"].is_monotonic_increasing
        source = frame[frame["city"] == city]["temperature"]
        assert group["temperature"].max() == source.max()
        assert group["temperature"].min() == source.min()
    assert list(dict.fromkeys(out["city"])) == ["A", "B", "C"]


def test_small_input_is_unchanged():
    """Test that a line shorter than max_points comes back row for row."""
    frame = history({"A": smooth(700), "B": smooth(5)})
    out = downsample(frame, "temperature")
    pd.testing.assert_frame_equal(out, frame[["city", "time", "temperature"]])


def test_empty_input_gives_an_empty_frame_with_the_columns():
    """Test that no rows in means no rows out, with the columns the plot expects."""
    empty = pd.DataFrame({"city": pd.Series([], dtype=object),
                          "time": pd.Series([], dtype="datetime64[ns, UTC]"),
                          "temperature": pd.Series([], dtype="float64")})
    out = downsample(empty, "temperature")
    assert out.empty and list(out.columns) == ["city", "time", "temperature"]


def test_nan_readings_are_dropped_and_unsorted_input_is_sorted():
    """Test that NaNs never count as a point, and rows arrive in time order per city."""
    values = smooth(4_000)
    values[::7] = np.nan
    frame = history({"A": values}).sample(frac=1, random_state=3)
    out = downsample(frame, "temperature", max_points=500)
    assert out["temperature"].notna().all() and len(out) <= 500
    assert out["time"].is_monotonic_increasing
    assert out["temperature"].max() == np.nanmax(values)


def test_minmax_indices_edge_cases():
    """Test equal times (no span), and that max_points below 2 is refused."""
    times = np.zeros(5_000, dtype="int64")
    values = np.arange(5_000, dtype="float64")
    keep = minmax_indices(times, values, max_points=100)
    assert list(values[keep]) == [0.0, 4_999.0]
    with pytest.raises(ValueError, match="at least 2"):
        minmax_indices(times, values, max_points=1)


def test_points_follow_the_plot_width_up_to_the_cap():
    """Test one point per pixel, capped at MAX_POINTS, and a 600-pixel plot's bound."""
    assert points_for_width(600) == 600 and points_for_width(4_000) == MAX_POINTS
    assert points_for_width(0) == 2
    out = downsample(history({"A": smooth(30_000)}), "temperature", points_for_width(600))
    assert 500 <= len(out) <= 600
