"""The benchmarks' delay arithmetic: polls from upstream requests, a session's delay after each."""

from __future__ import annotations

from dataclasses import dataclass

from bench.push import LATENCY_S, WEATHER_PATH, delay_stats, window_delays
from bench.scaleout import count_soak


@dataclass
class Request:
    time: float
    path: str = WEATHER_PATH


def test_each_session_is_timed_from_the_last_answer_of_each_poll():
    """Test that a poll's 7 requests make one poll, timed from its last answer."""
    requests = [Request(100.0 + 0.01 * i) for i in range(7)] + [Request(105.0)]
    last_answer = 100.06 + LATENCY_S
    seen = [[last_answer + 0.2, 105.0 + LATENCY_S + 0.3], [last_answer + 0.5]]
    delays = window_delays(requests, seen, window_start=99.0, window_end=107.0)
    assert [round(d, 3) for d in delays] == [0.2, 0.5, 0.3, float("inf")]


def test_a_session_that_got_nothing_counts_as_late_not_as_missing():
    """Test that a missed update lowers the share within 1 s and sets the max to inf."""
    stats = delay_stats([0.2, 0.4, float("inf"), 0.6])
    assert stats["within"] == 0.75
    assert stats["p50_s"] == 0.4
    assert stats["max_s"] == float("inf")


def test_requests_before_the_window_and_other_paths_are_not_polls():
    """Test that only current-weather requests inside the window count as polls."""
    requests = [Request(90.0), Request(100.0, path="/data/2.5/forecast"), Request(100.0)]
    delays = window_delays(requests, [[100.0 + LATENCY_S + 0.1, 89.0]], 95.0, 103.0)
    assert [round(d, 3) for d in delays] == [0.1]
    assert delay_stats([]) == {"within": None, "p50_s": None, "p95_s": None, "max_s": None}


def test_the_soak_matches_each_poll_to_its_own_row():
    """Test that a missing row is lost, unless a SIGKILL took its poll or it shared a second."""
    polls = [10.1, 11.1, 11.9, 12.95, 14.1, 15.1, 16.1]
    # 11.9 shares second 11 with 11.1; 12.95's answer came in second 13; 15 is missing.
    stored = [10, 11, 13, 14, 16]
    count = count_soak(polls, stored, kills=[], interval_s=1.0)
    assert (count.stored, count.same_second, count.lost) == (5, 1, [15.1])
    killed = count_soak(polls, stored, kills=[16.0], interval_s=1.0)
    assert (killed.lost, killed.at_kill) == ([], [15.1])
    assert count_soak(polls, [10, 11, 12, 13, 14, 15, 16], [], 1.0).lost == []
