"""Downsampling of long histories to screen resolution, keeping every peak and dip.

Min/max per time bucket: each line gets at most ``max_points`` points, and in each bucket
the lowest and highest readings survive, in time order, so a one-reading spike among
thousands is still drawn. Pure pandas/numpy, computed once and shared, never per viewer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Points per line: about one per horizontal pixel of a wide plot.
MAX_POINTS = 1_500


def points_for_width(width_px: int) -> int:
    """Points per line for a plot ``width_px`` wide: one per pixel, at most ``MAX_POINTS``."""
    return max(2, min(MAX_POINTS, int(width_px)))


def minmax_indices(times_ns: np.ndarray, values: np.ndarray,
                   max_points: int = MAX_POINTS) -> np.ndarray:
    """Positions (sorted) of the readings to keep of one line, at most ``max_points``.

    ``times_ns`` must be sorted. Lines of ``max_points`` or fewer readings are kept whole;
    NaN readings are dropped first. Otherwise the time span is cut into ``max_points // 2``
    equal buckets, and each keeps its first minimum and first maximum.
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    valid = np.flatnonzero(~np.isnan(values))
    if len(valid) <= max_points:
        return valid
    t = times_ns[valid].astype("float64")
    v = values[valid]
    n_buckets = max_points // 2
    span = t[-1] - t[0]
    if span <= 0:
        bucket = np.zeros(len(t), dtype="int64")
    else:
        bucket = np.minimum(((t - t[0]) / span * n_buckets).astype("int64"), n_buckets - 1)
    # Sort by bucket, then value (stable): a bucket's first row is its min, its last its max.
    order = np.lexsort((v, bucket))
    sorted_buckets = bucket[order]
    starts = np.flatnonzero(np.r_[True, sorted_buckets[1:] != sorted_buckets[:-1]])
    ends = np.r_[starts[1:], len(order)] - 1
    keep = np.unique(np.concatenate([order[starts], order[ends]]))
    return valid[keep]


def downsample(frame: pd.DataFrame, value: str, max_points: int = MAX_POINTS, *,
               by: str = "city", time: str = "time") -> pd.DataFrame:
    """The rows of ``frame`` to draw ``value`` with, at most ``max_points`` per ``by`` group.

    Returns the columns ``by``, ``time`` and ``value`` of the kept rows, each group in time
    order, groups in order of first appearance. An empty frame comes back empty.
    """
    columns = [by, time, value]
    if frame.empty:
        return frame[columns].iloc[0:0].copy()
    parts = []
    for _, group in frame[columns].groupby(by, sort=False):
        group = group.sort_values(time, kind="stable")
        times_ns = pd.DatetimeIndex(group[time]).as_unit("ns").asi8
        keep = minmax_indices(times_ns, group[value].to_numpy(dtype="float64"), max_points)
        parts.append(group.iloc[keep])
    return pd.concat(parts, ignore_index=True)
