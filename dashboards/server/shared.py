"""What every session of one server process shares on purpose: the provider, feed, forecast.

Only data holders live here (no panes, no Bokeh models, no session callbacks), so sessions
can come and go without anything of theirs being kept alive by another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from dashboards.config import AppConfig
from dashboards.server.collector import QuietCollector
from dashboards.server.feed import WeatherFeed
from dashboards.server.forecast import ForecastPoll, start_forecast
from dashboards.server.history import History
from dashboards.server.server_log import show_info_logs
from weather.cache import CachedProvider
from weather.errors import ConfigError
from weather.providers import get_provider
from weather.providers.base import Provider

log = logging.getLogger(__name__)

_lock = threading.Lock()
_feed: WeatherFeed | None = None
_forecast: ForecastPoll | None = None
_collector: QuietCollector | None = None
_refresh_provider: CachedProvider | None = None

#: Seconds a Refresh result is reused for any viewer: upstream data changes every few minutes.
REFRESH_CACHE_S = 10.0
#: Seconds a forecast a viewer's Refresh fetched (a city the viewer added) is reused for any
#: viewer: forecasts change hourly at most.
REFRESH_FORECAST_CACHE_S = 600.0


def start_process(environ: Mapping[str, str] | None = None) -> WeatherFeed | None:
    """Check the settings and start this process's feed, before any viewer arrives.

    A bad setting is logged once here; each page then shows it too. Returns the feed, or
    None when the settings are bad.
    """
    show_info_logs()
    try:
        config = AppConfig.from_env(environ)
    except ConfigError as exc:
        log.error("weather dashboard cannot start: %s", exc)
        return None
    return shared_feed(config)


def shared_feed(config: AppConfig) -> WeatherFeed:
    """Return this process's feed, creating and starting it (and the forecast) on first use."""
    global _feed, _forecast, _collector
    with _lock:
        if _feed is None:
            provider = get_provider(config=config.client)
            history = History(config.db_path, provider=provider.name,
                              retention_days=config.retention_days)
            _feed = WeatherFeed(provider, config.cities, history, interval_s=config.interval_s)
            # Garbage collections between polls, when no batch is going out.
            _collector = QuietCollector(quiet_after_batch_s=config.interval_s / 3)
            _feed.updates.sink(_collector.batch_went_out)
            _collector.start()
            _feed.start()
            log.info(
                "feed: polling %s for %d cities every %gs; history in %s",
                provider.name, len(config.cities), config.interval_s, history.db_path,
            )
            # Beside the history; on PostgreSQL the feed's poller polls the forecast too.
            feed = _feed
            _forecast = start_forecast(provider, config.cities, config.db_path,
                                       config.forecast_interval_s,
                                       leading=lambda: feed.leading)
        return _feed


def process_collector() -> QuietCollector | None:
    """This process's garbage collector between polls, started with the feed."""
    return _collector


def shared_forecast(config: AppConfig) -> ForecastPoll:
    """Return this process's forecast poll, started with the feed."""
    shared_feed(config)
    assert _forecast is not None
    return _forecast


def shared_refresh_provider(config: AppConfig) -> Provider:
    """Return the feed's provider behind a short cache shared by every viewer's Refresh."""
    global _refresh_provider
    feed = shared_feed(config)
    with _lock:
        if _refresh_provider is None or _refresh_provider.provider is not feed.provider:
            _refresh_provider = CachedProvider(feed.provider, ttl_s=REFRESH_CACHE_S,
                                               forecast_ttl_s=REFRESH_FORECAST_CACHE_S)
        return _refresh_provider


def reset() -> None:
    """Stop and forget the shared feed and forecast (tests, notebooks that change settings)."""
    global _feed, _forecast, _collector, _refresh_provider
    with _lock:
        if _collector is not None:
            _collector.stop()
        if _feed is not None:
            _feed.stop()
            _feed.history.close()
        if _forecast is not None:
            _forecast.stop()
            _forecast.store.close()
        _feed = _forecast = _collector = None
        _refresh_provider = None
