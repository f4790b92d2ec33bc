"""Celery tasks: thin adapters from the broker to the delivery engine in `app.sending`.

Tasks take ids, never model objects. Long waits (rate-limit cooldowns, retry backoff, an account's
interval) live in the database or in the worker's sender, never in `countdown`/`eta`. `send_batches`
only hands its claims to this process's sender (`app.sending.service`) and returns: no pool slot is
held while an account sends, so `CELERY_CONCURRENCY` threads are only for taking tasks.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from celery import current_app as current_celery_app
from celery import shared_task, signals
from flask import Flask, current_app
from kombu.exceptions import OperationalError

from app import clock
from app.audiences.signup.confirmations import due_requests, send_confirmation
from app.audiences.signup.links import ConfirmationLinks
from app.campaigns.recipients.snapshot import stalled_writings, write_chunk
from app.celery_app import (
    DISPATCH_TASK,
    EMAIL_WRITING_SWEEP_TASK,
    MAILBOX_TASK,
    SIGNUP_SWEEP_TASK,
    WRITE_EMAILS_TASK,
    enqueue_email_writing,
)
from app.extensions import db
from app.mailbox.reader import mailboxes_to_read
from app.mailbox.service import MailboxReaders
from app.sending.dispatcher import Handoff, dispatch, next_campaign_start
from app.sending.service import SenderService
from app.sending.settings import EngineSettings
from app.smtp_crypto import configured_keys, password_decrypter

SEND_BATCHES_TASK = "campaigns.send_batches"

log = logging.getLogger(__name__)

_service: SenderService | None = None
_service_lock = threading.Lock()
_readers: MailboxReaders | None = None
#: Beat's ticks never overlap in one process: a tick that comes while one still runs would only
#: contend with it for the same accounts.
_dispatching = threading.Lock()


def engine_settings() -> EngineSettings:
    return EngineSettings.from_config(current_app.config)


def celery_flask_app() -> Flask:
    return current_celery_app.flask_app


def sender_service() -> SenderService:
    """This process's sender, started on first use (inside a task, so with the app's context)."""
    global _service
    with _service_lock:
        if _service is None:
            config = current_app.config
            _service = SenderService(
                engine_settings(),
                db.engine,
                password_decrypter(configured_keys()),
                db_connections=config["SENDER_DB_CONNECTIONS"],
                build_threads=config["SENDER_BUILD_THREADS"],
            )
        return _service


@signals.worker_ready.connect
def start_sending(sender: object = None, **_: object) -> None:
    """Start this worker's sender and its build processes before the first batch arrives."""
    with celery_flask_app().app_context():
        sender_service()


@signals.worker_shutting_down.connect
@signals.worker_process_shutdown.connect
def stop_sending(**_: object) -> None:
    """A warm shutdown: every account finishes the email in flight and gives back the rest."""
    global _service, _readers
    _wake_up.cancel()
    with _service_lock:
        service, _service = _service, None
        readers, _readers = _readers, None
    if readers is not None:
        readers.stop()
    if service is not None:
        service.stop(timeout=service.settings.smtp_timeout + 5)


def enqueue_batches(handoffs: list[Handoff]) -> None:
    """Hand claimed batches to the workers (only ever called after their claims have committed).

    If the broker can't be reached, this worker (beat's tick runs in one) sends them itself: a claimed
    batch left unsent would hold its account until the lease ran out, for the whole of the outage.
    """
    try:
        send_batches.delay([[h.ticket, h.account_id, h.delay] for h in handoffs])
    except OperationalError:
        log.warning("broker unreachable: this worker sends the %d batches it claimed", len(handoffs))
        sender_service().submit(handoffs)


#: Seconds before a task is warned (SoftTimeLimitExceeded) and then stopped. Every task here returns in
#: well under a second by design (a tick claims a few rows per account, a hand-off only queues batches:
#: the sending itself, template rendering included, happens in the sender, bounded there): a task
#: running this long is stuck, not busy. Celery enforces them on the prefork pool; on the default
#: threads pool they only document the design (Celery can't stop a thread).
QUICK = {"soft_time_limit": 10, "time_limit": 20}
TICK_LIMITS = {"soft_time_limit": 30, "time_limit": 60}


@shared_task(name="campaigns.ping", **QUICK)
def ping() -> str:
    """A health check a worker answers: `celery -A celery_worker call campaigns.ping`."""
    return "pong"


#: Both tasks are acknowledged when they start, not when they end (`task_acks_late` stays the default
#: for any other task). A message still unacknowledged when the broker goes away makes kombu 5.7's Redis
#: transport crash the whole worker while restoring it ("Unrecoverable error: 'NoneType' object has no
#: attribute 'hostname'", seen in the broker-restart tests), and with it the sender of every account it
#: serves. Nothing is lost by acknowledging early: a tick comes again in `DISPATCH_INTERVAL`, and a
#: hand-off lost with its worker is a claim the dispatcher recovers once its lease has passed.
EARLY_ACK = {"acks_late": False}


@shared_task(name=DISPATCH_TASK, **EARLY_ACK, **TICK_LIMITS)
def dispatch_due_emails() -> int:
    """Beat's tick: recover stale claims and start one batch per ready account."""
    return _dispatch(wait=False)


def _dispatch(wait: bool) -> int:
    """A tick, then a wake-up when the next scheduled campaign starts if that comes before the next
    tick. A beat tick finding one under way skips; a wake-up (`wait`) waits for it to end."""
    if not _dispatching.acquire(blocking=wait):
        return 0
    try:
        settings = engine_settings()
        claims = dispatch(db.session(), settings, enqueue_batches)
        start = next_campaign_start(db.session(), clock.utcnow(), settings.dispatch_interval)
        if start is not None:
            _wake_up.at(start, celery_flask_app())
        return len(claims)
    finally:
        _dispatching.release()


class WakeUp:
    """One pending extra tick of this process, at the earliest moment asked for (a timer thread: a
    Celery countdown would sit unacknowledged in the worker, see `EARLY_ACK`). Beat's own tick stays
    the backstop if the process dies first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None
        self.when: datetime | None = None

    def at(self, when: datetime, app: Flask) -> None:
        with self.lock:
            if (
                self.timer is not None
                and self.timer.is_alive()
                and self.when is not None
                and self.when <= when
            ):
                return
            self.cancel()
            seconds = max((when - clock.utcnow()).total_seconds(), 0.0)
            self.timer = threading.Timer(seconds, self._tick, args=(app,))
            self.timer.daemon = True
            self.when = when
            self.timer.start()

    @staticmethod
    def _tick(app: Flask) -> None:
        with app.app_context():
            _dispatch(wait=True)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.when = None


_wake_up = WakeUp()


@shared_task(name=SEND_BATCHES_TASK, **EARLY_ACK, **QUICK)
def send_batches(batches: list[list[str | int | float]]) -> int:
    """Start sending claimed batches, each `[ticket, account id, delay]`; returns at once."""
    sender_service().submit(
        Handoff(str(ticket), int(account), float(delay)) for ticket, account, delay in batches
    )
    return len(batches)


def mailbox_readers() -> MailboxReaders:
    """This process's mailbox readers, started on first use."""
    global _readers
    with _service_lock:
        if _readers is None:
            _readers = MailboxReaders(
                celery_flask_app(),
                current_app.config["MAILBOX_READERS"],
                password_decrypter(configured_keys()),
            )
        return _readers


@shared_task(name=MAILBOX_TASK, **EARLY_ACK, **QUICK)
def read_mailboxes() -> int:
    """Beat's mailbox cycle: hand every enabled mailbox to this process's readers; returns at once."""
    mailbox_ids = mailboxes_to_read()
    db.session.commit()
    return mailbox_readers().submit(mailbox_ids)


#: One SMTP conversation (connect, TLS, login, one message), each step bounded by `SMTP_TIMEOUT` (30 s).
CONVERSATION_LIMITS = {"soft_time_limit": 150, "time_limit": 180}


@shared_task(name="signups.send_confirmation", **EARLY_ACK, **CONVERSATION_LIMITS)
def send_signup_confirmation(request_id: int) -> str:
    """Send a sign-up's confirmation email (app.audiences.signup.confirmations); returns its status."""
    result = send_confirmation(
        request_id,
        engine_settings(),
        ConfirmationLinks.from_config(current_app.config),
        password_decrypter(configured_keys()),
    )
    return result.status


def enqueue_signup_confirmation(request_id: int) -> None:
    """Hand a committed sign-up to the workers; with the broker away, beat's sweep sends it later."""
    try:
        send_signup_confirmation.delay(request_id)
    except OperationalError:
        log.warning("broker unreachable: sign-up %d waits for the sweep", request_id)


@shared_task(name=SIGNUP_SWEEP_TASK, **EARLY_ACK, **QUICK)
def sweep_signup_confirmations() -> int:
    """Beat's safety net for sign-ups: every confirmation now due (after a wait, a lost task, an outage)."""
    due = due_requests(engine_settings(), clock.utcnow())
    for request_id in due:
        enqueue_signup_confirmation(request_id)
    return len(due)


@shared_task(name=WRITE_EMAILS_TASK, **EARLY_ACK, **QUICK)
def write_emails(campaign_id: int) -> int:
    """One chunk of a campaign's emails from the contacts it was scheduled to (`EMAIL_CHUNK_SIZE`), then
    the next chunk queued while contacts are left: a worker is held for one chunk at a time, and other
    tasks run between chunks. Returns the emails written."""
    chunk = write_chunk(campaign_id, current_app.config["EMAIL_CHUNK_SIZE"])
    db.session.commit()
    if chunk.more:
        enqueue_email_writing(campaign_id)
    return chunk.emails


@shared_task(name=EMAIL_WRITING_SWEEP_TASK, **EARLY_ACK, **QUICK)
def sweep_email_writing() -> int:
    """Beat's safety net for writing emails: a campaign whose writing has not moved on for
    `EMAIL_CHUNK_LEASE` (its task lost with a worker or the broker) is restarted."""
    lease = timedelta(seconds=current_app.config["EMAIL_CHUNK_LEASE"])
    stalled = stalled_writings(clock.utcnow() - lease)
    db.session.commit()
    for campaign_id in stalled:
        enqueue_email_writing(campaign_id)
    return len(stalled)
