"""One background job at a time: refusal while one runs, and recovery when its page is gone."""

from __future__ import annotations

import threading

from dashboards.views.refresh.jobs import SingleJob
from testing.served import wait_until


class UnreachablePage:
    """A served page's document whose session can no longer take a callback."""

    session_context = object()

    def add_next_tick_callback(self, callback):
        raise RuntimeError("the session was destroyed")


def test_a_second_start_is_refused_and_the_result_comes_back_once():
    """Test that a start while a job runs is refused, and the first job's result arrives."""
    busy, results = [], []
    gate = threading.Event()
    job = SingleJob(busy.append)
    assert job.start(lambda: gate.wait(10) and "fetched", results.append)
    assert not job.start(lambda: "second", results.append)
    gate.set()
    wait_until(lambda: not job.running, timeout_s=10, message="the job to end")
    assert results == ["fetched"] and busy == [True, False]


def test_a_job_whose_page_is_gone_frees_the_way_for_the_next():
    """Test that a result that cannot be handed to its page does not block later jobs."""
    job = SingleJob(lambda busy: None)
    assert job.start(lambda: "fetched", lambda outcome: None, doc=UnreachablePage())
    wait_until(lambda: not job.running, timeout_s=10, message="the dropped job to end")
    results = []
    assert job.start(lambda: "again", results.append)
    wait_until(lambda: results == ["again"], timeout_s=10, message="the next job's result")
