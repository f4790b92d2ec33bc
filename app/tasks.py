"""Celery tasks: thin adapters from the broker to the delivery engine in `app.sending`.

Tasks take ids, never model objects. Long waits (rate-limit cooldowns, retry backoff) live in the
database for the dispatcher to pick up, never in `countdown`/`eta`: only the dispatcher's spacing of a
second or two between batches is a countdown.
"""

from __future__ import annotations

from celery import shared_task
from flask import current_app
from sqlalchemy.orm import Session

from app.celery_app import DISPATCH_TASK
from app.extensions import db
from app.sending.batch import BatchSender
from app.sending.dispatcher import dispatch
from app.sending.settings import EngineSettings

SEND_BATCH_TASK = "campaigns.send_batch"


def engine_settings() -> EngineSettings:
    return EngineSettings.from_config(current_app.config)


def enqueue_batch(batch_id: str, account_id: int, delay: float) -> None:
    """Hand a claimed batch to the workers (only ever called after its claim has committed)."""
    send_batch.apply_async((batch_id, account_id), countdown=delay or None)


@shared_task(name="campaigns.ping")
def ping() -> str:
    """A health check a worker answers: `celery -A celery_worker call campaigns.ping`."""
    return "pong"


@shared_task(name=DISPATCH_TASK)
def dispatch_due_emails() -> int:
    """Beat's tick: recover stale claims and start one batch per ready account."""
    return len(dispatch(db.session, engine_settings(), enqueue_batch))


@shared_task(name=SEND_BATCH_TASK)
def send_batch(batch_id: str, account_id: int) -> int:
    """Send one claimed batch; returns how many emails went out.

    The batch keeps one database connection for its whole run: checked out of the pool again after
    every commit, it would be pinged (`pool_pre_ping`) once per email, a round trip for nothing.
    """
    with db.engine.connect() as connection, Session(bind=connection) as session:
        return BatchSender(session, engine_settings(), batch_id, account_id, enqueue=enqueue_batch).run().sent
