"""What every session of one server process shares on purpose: the provider and the feed.

Only data holders live here (no panes, no Bokeh models, no session callbacks), so sessions
can come and go without anything of theirs being kept alive by another.
"""

from __future__ import annotations

import logging
import threading

from dashboards.config import AppConfig
from dashboards.feed import WeatherFeed
from dashboards.history import History
from weather.providers import get_provider
from weather.providers.base import Provider

log = logging.getLogger(__name__)

_lock = threading.Lock()
_feed: WeatherFeed | None = None


def shared_feed(config: AppConfig) -> WeatherFeed:
    """Return this process's feed, creating and starting it on first use."""
    global _feed
    with _lock:
        if _feed is None:
            provider = get_provider(config=config.client)
            history = History(config.db_path)
            _feed = WeatherFeed(provider, config.cities, history, interval_s=config.interval_s)
            _feed.start()
            log.info(
                "feed: polling %s for %d cities every %gs; history in %s",
                provider.name, len(config.cities), config.interval_s, config.db_path,
            )
        return _feed


def shared_provider(config: AppConfig) -> Provider:
    """Return the provider the feed polls, for on-demand lookups by the refresh tab."""
    return shared_feed(config).provider


def reset() -> None:
    """Stop and forget the shared feed (tests, notebooks that change settings)."""
    global _feed
    with _lock:
        if _feed is not None:
            _feed.stop()
            _feed.history.close()
            _feed = None
