"""The full garbage collection runs between batches; the ones in between only see new objects."""

from __future__ import annotations

import gc
import time
import weakref

import pytest

from dashboards.server import shared
from dashboards.server.collector import QuietCollector
from testing.served import wait_until


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector():
    made: list[QuietCollector] = []

    def make(**params) -> QuietCollector:
        made.append(QuietCollector(**params))
        made[-1].start()
        return made[-1]

    yield make
    for one in made:
        one.stop()


def test_a_full_collection_waits_for_the_quiet_point_after_a_batch(collector):
    quiet = collector(quiet_after_batch_s=1.0, collection_every_s=0.2)
    batch_at = time.monotonic()
    quiet.batch_went_out()
    wait_until(lambda: quiet.collections, timeout_s=30, message="a quiet collection")
    assert quiet.last_collection_at >= batch_at + 1.0


def test_with_no_batch_a_full_collection_runs_anyway(collector):
    quiet = collector(quiet_after_batch_s=60.0, collection_every_s=0.2)
    wait_until(lambda: quiet.collections >= 2, timeout_s=30, message="quiet collections")


def test_frozen_garbage_waits_for_someone_to_ask_for_a_full_collection(collector):
    # Far apart, so that no quiet collection comes between two looks below.
    quiet = collector(quiet_after_batch_s=60.0, collection_every_s=1.0)
    survivor = Node()
    survived = weakref.ref(survivor)
    wait_until(lambda: quiet.collections >= 1, timeout_s=30, message="a quiet collection")
    made = quiet.collections
    newcomer = Node()
    new = weakref.ref(newcomer)
    del survivor, newcomer
    wait_until(lambda: quiet.collections > made, timeout_s=30, message="a quiet collection")
    assert new() is None, "garbage made since the last collection is freed by the next"
    assert survived() is not None, "frozen garbage waits: nobody asked for all of it"
    made = quiet.collections
    gc.collect()  # as Bokeh and Panel do when a viewer leaves: it sees new objects only
    assert survived() is not None
    wait_until(lambda: quiet.collections > made, timeout_s=30, message="a whole collection")
    assert survived() is None and quiet.whole_collections == 1


def test_frozen_garbage_is_freed_within_the_whole_collection_period(collector):
    quiet = collector(quiet_after_batch_s=60.0, collection_every_s=0.2,
                      whole_collection_every_s=1.0)
    survivor = Node()
    survived = weakref.ref(survivor)
    wait_until(lambda: quiet.collections >= 1, timeout_s=30, message="a quiet collection")
    del survivor
    made = quiet.whole_collections
    wait_until(lambda: quiet.whole_collections > made, timeout_s=30,
               message="a whole collection")
    assert survived() is None


def test_after_a_viewer_leaves_the_next_batch_brings_a_whole_collection(collector):
    quiet = collector(quiet_after_batch_s=0.2, collection_every_s=3600.0)
    survivor = Node()
    survived = weakref.ref(survivor)
    gc.collect()  # as Bokeh does when a viewer leaves
    quiet.batch_went_out()
    wait_until(lambda: quiet.whole_collections == 1, timeout_s=30, message="a collection")
    del survivor
    gc.collect()
    assert survived() is not None, "frozen at the first collection, it waits for the next"
    quiet.batch_went_out()
    wait_until(lambda: quiet.whole_collections == 2, timeout_s=30, message="the next one")
    assert survived() is None


def test_a_stopped_collector_leaves_nothing_frozen(collector):
    quiet = collector(quiet_after_batch_s=60.0, collection_every_s=0.2)
    wait_until(lambda: quiet.collections, timeout_s=30, message="a quiet collection")
    quiet.stop()
    assert gc.get_freeze_count() == 0


def test_a_process_feed_has_a_collector_until_it_stops(demo_settings):
    feed = shared.shared_feed(demo_settings)
    assert shared.process_collector() is not None
    assert shared.process_collector().quiet_after_batch_s == feed.interval_s / 3
    shared.reset()
    assert shared.process_collector() is None
