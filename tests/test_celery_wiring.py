"""A real worker and a real beat run the app's tasks, on the embedded broker and on Redis."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.processes


def test_worker_answers_and_knows_the_app_tasks(stack):
    stack.worker()
    celery = stack.app.extensions["celery"]
    assert celery.control.ping(timeout=5, limit=1), stack.logs
    registered = next(iter(celery.control.inspect(timeout=5, limit=1).registered().values()))
    assert {"campaigns.ping", "campaigns.dispatch", "campaigns.send_batches"} <= set(registered)


def test_beat_ticks_the_dispatcher_on_the_worker(stack):
    worker, _beat = stack.start(DISPATCH_INTERVAL=0.5)
    worker.wait_for_log("Task campaigns.dispatch[", timeout=30)
    worker.wait_for_log("succeeded", timeout=30)
    assert "Traceback" not in worker.log
