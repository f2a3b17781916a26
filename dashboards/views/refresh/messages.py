"""What the Refresh tab tells the viewer, as plain text; escaping happens where it is shown."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from dashboards.views.refresh.data import (
    MAX_NAME_LENGTH,
    age_text,
    failed_rows,
    failure_text,
    same_city,
)
from weather.errors import AuthError, NotFoundError, RateLimitError, WeatherError

# Characters Markdown would read as formatting: backslash-escaped so names show as typed.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]#|~])")


@dataclass(frozen=True)
class Notice:
    """One message: plain ``text`` and the kind of ``pn.pane.Alert`` that shows it."""

    text: str = ""
    kind: str = "info"

    def markdown(self) -> str:
        """The text as Markdown that renders literally: no HTML, links or emphasis."""
        return literal_markdown(self.text)


NO_NOTICE = Notice()


def literal_markdown(text: str) -> str:
    """``text`` escaped so that Markdown shows it character for character."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def _kept(newest: pd.Timestamp | None, now_s: float | None = None) -> str:
    """What the viewer still sees: the older values and their age, or nothing."""
    if newest is None or pd.isna(newest):
        return "No data to show yet."
    now = time.time() if now_s is None else now_s
    age = age_text(now - newest.timestamp())
    return (f"Still showing the older values, observed up to {newest:%H:%M} UTC ({age}), "
            "marked stale in the table.")


def _reason(error: BaseException) -> str:
    if isinstance(error, AuthError):
        return ("The weather provider rejected the API key (wrong, revoked or not yet "
                "activated): check OPENWEATHER_API_KEY.")
    if isinstance(error, RateLimitError):
        wait = f" Try again in {error.retry_after_s:g} s." if error.retry_after_s else ""
        return f"The weather provider asks us to slow down.{wait}"
    if isinstance(error, WeatherError):
        return f"The weather provider failed: {error.message}."
    return "An unexpected error happened (the server log has the details)."


def describe(error: BaseException) -> str:
    """One line for the log: our errors' messages never hold the key; others give their type."""
    if isinstance(error, WeatherError):
        return f"{error.status}: {error.message}"
    return type(error).__name__


def fetch_failed(error: BaseException, newest: pd.Timestamp | None) -> Notice:
    """The whole fetch failed: the key, the rate limit, the network, or something unexpected.

    ``newest`` is the newest observation time still shown, if any.
    """
    return Notice(f"Refresh failed. {_reason(error)} {_kept(newest)}", "danger")


def nothing_fetched(frame: pd.DataFrame, newest: pd.Timestamp | None) -> Notice:
    """Every city failed, e.g. the provider is down or this server is offline."""
    statuses = sorted(set(frame["status"]))
    return Notice(f"The weather provider did not answer for any city ({', '.join(statuses)}). "
                  f"{_kept(newest)}", "danger")


def partial_failure(frame: pd.DataFrame, kept: Sequence[str] = ()) -> Notice:
    """Some cities failed: name them, and those whose older values are still shown."""
    text = failure_text(frame)
    if not text:
        return NO_NOTICE
    if kept:
        text = (f"{text.removesuffix('.').replace(', left off the map:', ':')}. "
                f"Older values kept, marked stale: {'; '.join(kept)}.")
    return Notice(text, "danger" if len(failed_rows(frame)) == len(frame) else "warning")


def check_new_city(name: str, cities: Sequence[str]) -> Notice | None:
    """Why ``name`` cannot be added without asking the provider, or None."""
    if not name:
        return Notice("Type the name of a city to add.", "warning")
    if len(name) > MAX_NAME_LENGTH:
        return Notice(f"That name is longer than {MAX_NAME_LENGTH} characters.", "warning")
    existing = same_city(name, cities)
    if existing is not None:
        return Notice(f"{existing} is already on the list.", "info")
    return None


def not_added(name: str, error: BaseException, demo: bool = False) -> Notice:
    """The provider did not confirm ``name``; the list is unchanged. ``demo``: the provider
    is the demo, which knows only its built-in cities."""
    if isinstance(error, NotFoundError) and demo:
        return Notice(f"The demo knows only its built-in cities, and {name} is not one of "
                      "them. For live weather of any city, start the server with "
                      "WEATHER_PROVIDER=open-meteo (no key needed) or with "
                      "OPENWEATHER_API_KEY set. The list is unchanged.", "warning")
    if isinstance(error, NotFoundError):
        return Notice(f"No city called {name} was found. The list is unchanged.", "warning")
    if isinstance(error, AuthError | RateLimitError) or not isinstance(error, WeatherError):
        return Notice(f"Could not look up {name}. {_reason(error)} The list is unchanged.",
                      "danger")
    return Notice(f"Could not look up {name} ({error.status}). The list is unchanged.",
                  "warning")


def added(name: str) -> Notice:
    return Notice(f"Added {name}.", "success")


def removed(names: Sequence[str]) -> Notice:
    return Notice(f"Removed {', '.join(names)}.", "info")


BUSY = Notice("A refresh is under way; try again when it has finished.", "info")
NO_CITIES = Notice("There is no city to refresh: add one below.", "info")
NOTHING_SELECTED = Notice("Select the cities to remove in the list first.", "info")
