"""Snapshots of the feed's health and how to say them in words."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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

    def summary(self, zone: str | None = None) -> str:
        """One line: when the feed last polled, when it polls next, and any problem.

        Times are given on the clock of ``zone`` (an IANA name; None: UTC), not counted
        down: the line changes when the feed does, not every second. A countdown made every
        page showing it lay out and repaint all its plots once a second.
        """
        parts = []
        if self.last_poll_at is not None:
            at = self.last_poll_at
            parts.append(f"updated {clock(at, zone)} {zone_name(zone, at)}")
        else:
            parts.append("waiting for the first poll")
        if self.next_poll_at is not None:
            parts.append(f"next poll {clock(self.next_poll_at, zone)}")
        parts.extend(self.problems())
        return " · ".join(parts)


def clock_utc(timestamp: float) -> str:
    """Format epoch seconds as ``hh:mm:ss`` in UTC."""
    return time.strftime("%H:%M:%S", time.gmtime(timestamp))


def clock(timestamp: float, zone: str | None = None) -> str:
    """Format epoch seconds as ``hh:mm:ss`` on the clock of ``zone`` (None, or unknown: UTC)."""
    tz = _zone(zone)
    if tz is None:
        return clock_utc(timestamp)
    return datetime.fromtimestamp(timestamp, tz).strftime("%H:%M:%S")


def zone_name(zone: str | None, timestamp: float | None = None) -> str:
    """What a reader calls ``zone`` at ``timestamp`` (now when None): "UTC", "CET", "IST"."""
    tz = _zone(zone)
    if tz is None:
        return "UTC"
    when = datetime.fromtimestamp(time.time() if timestamp is None else timestamp, tz)
    return when.strftime("%Z") or zone or "UTC"


@lru_cache(maxsize=64)
def _zone(zone: str | None) -> ZoneInfo | None:
    if not zone or zone == "UTC":
        return None
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
