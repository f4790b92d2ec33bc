"""A real worker and a real beat run the app's tasks, on the embedded broker and on Redis."""

from __future__ import annotations

import pytest

from app import create_app
from config import celery_settings
from tests.processes import start_beat, start_worker
from tests.services import redis_url

pytestmark = pytest.mark.worker


@pytest.fixture(params=["filesystem", "redis"])
def broker_env(request, tmp_path) -> dict[str, str]:
    broker = "filesystem://" if request.param == "filesystem" else redis_url()
    return {
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "CELERY_BROKER_URL": broker,
        "DISPATCH_INTERVAL": "0.5",
    }


def test_worker_answers_and_knows_the_app_tasks(broker_env, tmp_path):
    worker = start_worker(broker_env, tmp_path)
    try:
        app = create_app(
            "testing",
            {"CELERY": celery_settings(broker_env["CELERY_BROKER_URL"], tmp_path, 60)},
        )
        celery = app.extensions["celery"]
        replies = celery.control.ping(timeout=5, limit=1)
        assert replies, worker.log
        registered = next(iter(celery.control.inspect(timeout=5, limit=1).registered().values()))
        assert {"campaigns.ping", "campaigns.dispatch"} <= set(registered)
    finally:
        worker.stop()


def test_beat_ticks_the_dispatcher_on_the_worker(broker_env, tmp_path):
    worker = start_worker(broker_env, tmp_path)
    beat = start_beat(broker_env, tmp_path)
    try:
        worker.wait_for_log("Task campaigns.dispatch[", timeout=30)
        worker.wait_for_log("succeeded", timeout=30)
    finally:
        beat.stop()
        worker.stop()
