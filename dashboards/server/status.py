"""Snapshots of the feed's health and how to say them in words."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class CityStatus:
    """How polling one city goes; times are wall-clock seconds since the epoch."""

    city: str
    last_success_at: float | None
    error: str | None
    error_status: str | None
    stale: bool


@dataclass(frozen=True)
class FeedStatus:
    """How the whole feed goes."""

    provider: str
    last_poll_at: float | None
    next_poll_at: float | None
    error: str | None
    cities: tuple[CityStatus, ...]
    history_error: str | None = None

    def problems(self) -> list[str]:
        """Every current problem as a sentence, most important first."""
        lines = []
        if self.error:
            lines.append(self.error)
        failing = [c for c in self.cities if c.error]
        lines.extend(f"{c.city}: {c.error_status}" for c in failing)
        stale = [c.city for c in self.cities if c.stale and not c.error]
        if stale:
            lines.append(f"no fresh data for {', '.join(stale)}")
        if self.history_error:
            lines.append(self.history_error)
        return lines

    def summary(self) -> str:
        """One line: when the feed last polled, when it polls next, and any problem.

        Times are given on the clock, not counted down: the line changes when the feed
        does, not every second. A countdown made every page showing it lay out and repaint
        all its plots once a second.
        """
        parts = []
        if self.last_poll_at is not None:
            parts.append(f"updated {clock_utc(self.last_poll_at)} UTC")
        else:
            parts.append("waiting for the first poll")
        if self.next_poll_at is not None:
            parts.append(f"next poll {clock_utc(self.next_poll_at)}")
        parts.extend(self.problems())
        return " · ".join(parts)


def clock_utc(timestamp: float) -> str:
    """Format epoch seconds as ``hh:mm:ss`` in UTC."""
    return time.strftime("%H:%M:%S", time.gmtime(timestamp))
