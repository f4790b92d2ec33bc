"""Sending a sign-up's confirmation email through the owner's SMTP account, from a Celery task.

The web request only records the request and enqueues its id after committing; the task claims it
(`pending -> sending`, so a duplicate delivery sends nothing), and sends one message on a connection of
its own with the engine's connection code, holding no transaction while the server talks. It keeps the
account's rules as the engine does: nothing goes while the account cools down after a rate limit, is
held for a problem only the user can solve, or has used its hourly or daily cap, and two confirmations
of one account are never closer than its interval. A failure is classified as the engine classifies
one (`app.sending.classify`) and lands where the user looks: the account's error and cooldown on the
settings page, the request's reason on the list's sign-up page. Whatever waits is kept in the database
(`next_attempt_at`) and sent by beat's sweep (`due_requests`), never by a broker countdown.

A confirmation goes between a campaign's emails, not after them (it would wait for the whole
campaign): the account's interval is kept between confirmations and from a campaign's last batch,
not inside a batch in flight. Confirmations are few (the public form is rate-limited per address,
client and list), and a campaign's caps do not count them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytz
import sqlalchemy as sa
from flask import render_template

from app import clock
from app.audiences.models import ContactList
from app.audiences.signup.links import ConfirmationLinks
from app.audiences.signup.models import ListSignup, SignupRequest, SignupStatus
from app.database import changed_rows
from app.extensions import db
from app.models import SMTPSettings
from app.sending.advice import account_error_message, cooldown_reason
from app.sending.classify import RECIPIENT_STAGES, Outcome, classify, is_permanent, is_temporary
from app.sending.connection import SMTPFailure, endpoint_for, run_sync, send_one
from app.sending.dispatcher import cap_room
from app.sending.settings import EngineSettings

log = logging.getLogger(__name__)

#: How long a confirmation waits when the account's hourly or daily cap is used up, before it looks again.
CAP_RECHECK = timedelta(minutes=5)
#: Confirmations beat's sweep hands out per tick.
SWEEP_LIMIT = 100


@dataclass(frozen=True)
class Result:
    """What became of one task's request: its status afterwards, and why if it did not go."""

    status: str
    why: str = ""


def send_confirmation(
    request_id: int, settings: EngineSettings, links: ConfirmationLinks, decrypt: Callable[[bytes], str]
) -> Result:
    """Send the request's confirmation if it is due and its account may send now; else leave it for later."""
    now = clock.utcnow()
    request = _claim(request_id, now)
    if request is None:
        db.session.commit()
        return Result("", "not due, or already taken")
    signup = db.session.get(ListSignup, request.list_id)
    account = signup.smtp_account if signup is not None else None
    if signup is None or not signup.enabled:
        return _finish(
            request, SignupStatus.FAILED, "Sign-up was turned off before the confirmation went out."
        )
    if account is None:
        return _finish(
            request,
            SignupStatus.FAILED,
            "No SMTP account is chosen for this list's confirmations: choose one on the list's sign-up page.",
        )
    wait = _account_wait(account, now)
    if wait is not None:
        return _wait(request, *wait)
    if not _take_slot(account, settings, now):
        return _wait(request, _slot_ends(account, settings), "waiting for the account's interval")
    try:
        endpoint = endpoint_for(account, settings, decrypt)
    except Exception as error:  # the password can't be read with the current key
        _account_error(account, str(error), now, holds=True)
        return _wait(request, None, str(error))
    try:
        message = confirmation_message(request, signup.contact_list, account, links)
    except ValueError as error:  # a header the email package refuses
        return _finish(request, SignupStatus.FAILED, f"The confirmation could not be built: {error}")
    sender, recipient = account.from_address, request.address
    db.session.commit()  # no transaction is held while the server talks
    try:
        run_sync(lambda: send_one(endpoint, message, sender, recipient))
    except SMTPFailure as failure:
        return _failed(request, account, failure, settings)
    except Exception as error:  # a bug, not the server: counted, so that it ends after MAX_ATTEMPTS
        log.exception("signup confirmation %s could not be sent", request.id)
        return _try_again(request, settings, f"An unexpected error (logged): {error}")
    request.sent_at = clock.utcnow()
    request.attempts += 1
    if account.last_error is not None and not account.held:
        account.last_error = account.last_error_at = None
    return _finish(request, SignupStatus.SENT, None)


def confirmation_message(
    request: SignupRequest, contact_list: ContactList, account: SMTPSettings, links: ConfirmationLinks
) -> EmailMessage:
    """The confirmation email: who asks, for which list, and the link that confirms."""
    sender = account.from_name or account.from_address
    context = {
        "sender": sender,
        "list_name": contact_list.name,
        "address": request.address,
        "url": links.url(request.id, request.address),
        "valid_days": links.tokens.valid_for.days,
    }
    message = EmailMessage()
    message["Subject"] = f"Confirm your subscription to {contact_list.name}"
    message["From"] = Address(account.from_name, addr_spec=account.from_address)
    message["To"] = Address(request.name, addr_spec=request.address)
    if account.reply_to:
        message["Reply-To"] = account.reply_to
    message["Date"] = format_datetime(pytz.utc.localize(clock.utcnow()))
    message["Message-ID"] = make_msgid(domain=account.from_address.rpartition("@")[2])
    message.set_content(render_template("signup/confirmation_email.txt", **context))
    message.add_alternative(render_template("signup/confirmation_email.html", **context), subtype="html")
    return message


def due_requests(settings: EngineSettings, now: datetime, limit: int = SWEEP_LIMIT) -> list[int]:
    """Beat's sweep: requests whose confirmation may go now (their account free to send), oldest first,
    after returning to `pending` any whose worker died while sending."""
    stale = now - timedelta(seconds=settings.claim_lease + 2 * settings.smtp_timeout)
    db.session.execute(
        sa.update(SignupRequest)
        .where(SignupRequest.status == SignupStatus.SENDING, SignupRequest.claimed_at < stale)
        .values(status=SignupStatus.PENDING, claimed_at=None)
    )
    due = db.session.scalars(
        sa.select(SignupRequest.id)
        .join(ListSignup, ListSignup.list_id == SignupRequest.list_id)
        .join(SMTPSettings, SMTPSettings.id == ListSignup.smtp_account_id)
        .where(
            SignupRequest.status == SignupStatus.PENDING,
            sa.or_(SignupRequest.next_attempt_at.is_(None), SignupRequest.next_attempt_at <= now),
            ~SMTPSettings.held,
            sa.or_(SMTPSettings.paused_until.is_(None), SMTPSettings.paused_until <= now),
        )
        .order_by(SignupRequest.id)
        .limit(limit)
    ).all()
    db.session.commit()
    return list(due)


# ----- steps -------------------------------------------------------------------------------------------


def _claim(request_id: int, now: datetime) -> SignupRequest | None:
    claimed = db.session.execute(
        sa.update(SignupRequest)
        .where(
            SignupRequest.id == request_id,
            SignupRequest.status == SignupStatus.PENDING,
            sa.or_(SignupRequest.next_attempt_at.is_(None), SignupRequest.next_attempt_at <= now),
        )
        .values(status=SignupStatus.SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed_rows(claimed) == 0:
        return None
    db.session.commit()
    return db.session.get(SignupRequest, request_id, populate_existing=True)


def _account_wait(account: SMTPSettings, now: datetime) -> tuple[datetime | None, str] | None:
    """Until when (None: until the user acts) the account may not send, and why; None if it may."""
    if account.held:
        return None, f"The SMTP account is held: {account.last_error or 'see Settings'}"
    if account.paused_until is not None and account.paused_until > now:
        return account.paused_until, f"The SMTP account cools down: {account.pause_reason or 'rate limit'}"
    if cap_room(db.session(), account.id, account.hourly_cap, account.daily_cap, now) == 0:
        return now + CAP_RECHECK, "The SMTP account has used its hourly or daily cap."
    return None


def _take_slot(account: SMTPSettings, settings: EngineSettings, now: datetime) -> bool:
    """Mark the account as sending now, unless it sent within its interval (atomic: two workers can't
    both take the slot)."""
    since = now - timedelta(seconds=settings.interval_for(account))
    taken = db.session.execute(
        sa.update(SMTPSettings)
        .where(
            SMTPSettings.id == account.id,
            sa.or_(SMTPSettings.last_send_at.is_(None), SMTPSettings.last_send_at <= since),
        )
        .values(last_send_at=now)
        .execution_options(synchronize_session=False)
    )
    return changed_rows(taken) > 0


def _slot_ends(account: SMTPSettings, settings: EngineSettings) -> datetime:
    db.session.refresh(account, ["last_send_at"])
    last = account.last_send_at or clock.utcnow()
    return last + timedelta(seconds=settings.interval_for(account))


def _failed(
    request: SignupRequest, account: SMTPSettings, failure: SMTPFailure, settings: EngineSettings
) -> Result:
    """What the server said, handled as the engine handles it for a campaign's email."""
    verdict = classify(failure)
    now = clock.utcnow()
    log.info("signup confirmation %s: %s (%s)", request.id, verdict.outcome, failure.reply)
    if verdict.outcome is Outcome.RATE_LIMIT:
        account.paused_until = now + timedelta(seconds=verdict.wait or settings.rate_limit_retry)
        account.pause_reason = cooldown_reason(failure, verdict)
        return _wait(request, account.paused_until, f"Rate limited: {failure.reply}")
    account_busy = is_temporary(failure) and failure.stage not in RECIPIENT_STAGES
    if verdict.outcome is Outcome.ACCOUNT or account_busy:
        message = account_error_message(failure)
        holds = verdict.outcome is Outcome.ACCOUNT and is_permanent(failure)
        _account_error(account, message, now, holds)
        retry = None if holds else now + timedelta(seconds=settings.backoff_after(1))
        return _wait(request, retry, message)
    if verdict.outcome is Outcome.PERMANENT:
        request.attempts += 1
        return _finish(request, SignupStatus.FAILED, f"The server refused it: {failure.reply}")
    return _try_again(request, settings, failure.reply)


def _try_again(request: SignupRequest, settings: EngineSettings, why: str) -> Result:
    """A temporary failure: counted, and tried again after the engine's backoff, up to `MAX_ATTEMPTS`."""
    request.attempts += 1
    if request.attempts >= settings.max_attempts:
        return _finish(request, SignupStatus.FAILED, f"Gave up after {request.attempts} tries: {why}")
    retry = clock.utcnow() + timedelta(seconds=settings.backoff_after(request.attempts))
    return _wait(request, retry, f"Will try again: {why}")


def _account_error(account: SMTPSettings, message: str, now: datetime, holds: bool) -> None:
    account.last_error, account.last_error_at = message, now
    account.held = account.held or holds


def _wait(request: SignupRequest, until: datetime | None, why: str) -> Result:
    request.status = SignupStatus.PENDING
    request.next_attempt_at = until
    request.claimed_at = None
    request.last_error = why
    db.session.commit()
    return Result(SignupStatus.PENDING, why)


def _finish(request: SignupRequest, status: str, why: str | None) -> Result:
    request.status = status
    request.claimed_at = None
    request.next_attempt_at = None
    request.last_error = why
    db.session.commit()
    return Result(status, why or "")
