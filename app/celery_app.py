"""Celery bound to the Flask app, as in Flask's own Celery pattern.

Every task runs inside the app context, receives ids (never model objects) as JSON, and the beat
schedule is built from the same settings names the rest of the app reads.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app
from kombu.exceptions import OperationalError

DISPATCH_TASK = "campaigns.dispatch"
MAILBOX_TASK = "mailbox.read_all"
SIGNUP_SWEEP_TASK = "signups.sweep"
EMAIL_WRITING_SWEEP_TASK = "campaigns.sweep_email_writing"
WRITE_EMAILS_TASK = "campaigns.write_emails"

log = logging.getLogger(__name__)


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = {
        "dispatch": {"task": DISPATCH_TASK, "schedule": app.config["DISPATCH_INTERVAL"]},
        "mailboxes": {"task": MAILBOX_TASK, "schedule": app.config["MAILBOX_READ_INTERVAL"]},
        "signups": {"task": SIGNUP_SWEEP_TASK, "schedule": app.config["DISPATCH_INTERVAL"]},
        "email-writing": {"task": EMAIL_WRITING_SWEEP_TASK, "schedule": app.config["DISPATCH_INTERVAL"]},
    }
    celery_app.set_default()
    celery_app.flask_app = app  # for the worker's signal handlers
    app.extensions["celery"] = celery_app

    from app import tasks  # noqa: F401  (registers the shared tasks)

    return celery_app


def enqueue_email_writing(campaign_id: int) -> None:
    """Queue the next chunk of a committed campaign's emails (`app.tasks.write_emails`), by the task's
    name: the pages that schedule are imported by the modules the tasks import. With the broker away,
    beat's sweep restarts the writing once it is back."""
    try:
        current_app.extensions["celery"].send_task(WRITE_EMAILS_TASK, args=[campaign_id])
    except OperationalError:
        log.warning("broker unreachable: the emails of campaign %d wait for the sweep", campaign_id)
