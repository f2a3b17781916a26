"""The history store interface every backend follows, and the row it stores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

#: One observation as stored: provider, city, observation time in ms since the epoch, then
#: lat, lon, temperature (°C), humidity (%), wind speed (m/s).
Row = tuple[str, str, int, float, float, float, float, float]
#: A stored row with its id first; ids grow with each insert (with gaps) in one store.
StoredRow = tuple[int, str, str, int, float, float, float, float, float]

#: Version of the tables below, kept in ``schema_version``; a later change migrates from it.
SCHEMA_VERSION = 1


class StoreUnavailable(Exception):
    """The store cannot be reached or used right now; the caller keeps rows and retries."""


class Store(ABC):
    """Observations unique by (provider, city, time), plus the feed's shared status.

    Every read names the provider: rows of another provider in the same database (a demo
    run and a live run on one file) are never returned. Methods raise ``StoreUnavailable``
    when the database cannot be used now; the store reconnects on a later call.
    """

    #: Whether several processes share this store (and so elect one poller among them).
    shared = False

    def __init__(self, location: str) -> None:
        self.location = location

    @property
    def description(self) -> str:
        """Where the rows go, fit for a log line (no password)."""
        return self.location

    @abstractmethod
    def insert(self, rows: list[Row]) -> list[int]:
        """Store the rows not stored before; return the ids of those that were new."""

    @abstractmethod
    def newest(self, provider: str | None, limit: int) -> list[StoredRow]:
        """The newest ``limit`` rows of ``provider`` by observation time, oldest first.

        ``provider=None`` reads every provider's rows (tools and tests, never the app).
        """

    @abstractmethod
    def after(self, provider: str | None, after_id: int, limit: int) -> list[StoredRow]:
        """Rows of ``provider`` with an id above ``after_id``, by id, at most ``limit``."""

    def lost(self) -> bool:
        """Whether the database vanished since it was opened (its rows must be written again)."""
        return False

    def read_status(self, provider: str) -> dict[str, Any] | None:
        """The feed status the poller shared last, or None (not shared by this backend)."""
        return None

    def write_status(self, provider: str, status: dict[str, Any]) -> None:
        """Share the poller's feed status with every process (no-op if nothing is shared)."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Close every connection; a later call may open them again."""


def provider_filter(provider: str | None, placeholder: str) -> tuple[str, tuple]:
    """The ``WHERE`` condition and its arguments that keep only ``provider``'s rows."""
    if provider is None:
        return "TRUE", ()
    return f"provider = {placeholder}", (provider,)
