"""What every session of one server process shares on purpose: the provider and the feed.

Only data holders live here (no panes, no Bokeh models, no session callbacks), so sessions
can come and go without anything of theirs being kept alive by another.
"""

from __future__ import annotations

import logging
import threading

from dashboards.config import AppConfig
from dashboards.server.feed import WeatherFeed
from dashboards.server.history import History
from weather.cache import CachedProvider
from weather.providers import get_provider
from weather.providers.base import Provider

log = logging.getLogger(__name__)

_lock = threading.Lock()
_feed: WeatherFeed | None = None
_refresh_provider: CachedProvider | None = None

#: Seconds a Refresh result is reused for any viewer: upstream data changes every few minutes.
REFRESH_CACHE_S = 10.0


def shared_feed(config: AppConfig) -> WeatherFeed:
    """Return this process's feed, creating and starting it on first use."""
    global _feed
    with _lock:
        if _feed is None:
            provider = get_provider(config=config.client)
            history = History(config.db_path, provider=provider.name)
            _feed = WeatherFeed(provider, config.cities, history, interval_s=config.interval_s)
            _feed.start()
            log.info(
                "feed: polling %s for %d cities every %gs; history in %s",
                provider.name, len(config.cities), config.interval_s, history.db_path,
            )
        return _feed


def shared_refresh_provider(config: AppConfig) -> Provider:
    """Return the feed's provider behind a short cache shared by every viewer's Refresh."""
    global _refresh_provider
    feed = shared_feed(config)
    with _lock:
        if _refresh_provider is None or _refresh_provider.provider is not feed.provider:
            _refresh_provider = CachedProvider(feed.provider, ttl_s=REFRESH_CACHE_S)
        return _refresh_provider


def reset() -> None:
    """Stop and forget the shared feed (tests, notebooks that change settings)."""
    global _feed, _refresh_provider
    with _lock:
        if _feed is not None:
            _feed.stop()
            _feed.history.close()
        _feed = None
        _refresh_provider = None
