"""The batch sender: one SMTP connection, the batch's emails one by one, paced, every outcome committed.

Idempotent: a run first swaps the task's batch id for its own (`_take_batch`), so a duplicate delivery
of the task finds nothing to do; and an email is sent only after an atomic `queued -> sending` update of
its own row. No transaction is held across an SMTP conversation or a pause.

The per-email work is kept to two statements and one commit: the conditional `queued -> sending`
update and the outcome, prepared once as Core statements (the ORM's per-statement overhead was half
the path's cost). When nothing forces a pause between two emails, one commit carries this email's
outcome and the next email's `sending`. The batch's claim is refreshed every quarter lease rather than
after every email, and the account's `last_send_at` is written when the batch ends.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from jinja2 import TemplateError
from sqlalchemy.orm import Session

from app import clock
from app.models import Campaign, CampaignStatus, Email, EmailStatus, SMTPSettings
from app.sending.classify import Outcome, account_error_message, classify, closes_connection
from app.sending.connection import Endpoint, SMTPFailure, close_quietly, open_connection, send_message
from app.sending.dispatcher import Enqueue, claim_batch, complete_finished_campaigns
from app.sending.message import CampaignTemplate, Recipient, Sender, compiled_template
from app.sending.settings import EngineSettings
from app.smtp_crypto import PasswordUnreadable, decrypt_password
from app.suppressions.operations import EMAIL_SUPPRESSED
from app.unsubscribe.tokens import UnsubscribeLinks

log = logging.getLogger(__name__)

Connect = Callable[[Endpoint], smtplib.SMTP]
STOPPING = (Outcome.RATE_LIMIT, Outcome.ACCOUNT)

EMAIL = Email.__table__
ACCOUNT = SMTPSettings.__table__
CAMPAIGN_RUNNING = (
    sa.select(Campaign.id)
    .where(Campaign.id == EMAIL.c.campaign_id, Campaign.status.in_(CampaignStatus.RUNNING))
    .exists()
)
OF_THIS_RUN = sa.and_(EMAIL.c.id == sa.bindparam("email_id"), EMAIL.c.batch_id == sa.bindparam("run_id"))
START_SENDING = (
    sa.update(EMAIL)
    .where(OF_THIS_RUN, EMAIL.c.status == EmailStatus.QUEUED, CAMPAIGN_RUNNING, ~EMAIL_SUPPRESSED)
    .values(status=EmailStatus.SENDING, claimed_at=sa.bindparam("now"))
)
MARK_SENT = (
    sa.update(EMAIL)
    .where(OF_THIS_RUN)
    .values(
        status=EmailStatus.SENT,
        attempts=EMAIL.c.attempts + 1,
        sent_at=sa.bindparam("now"),
        message_id=sa.bindparam("new_message_id"),
        last_smtp_code=250,
        last_smtp_message=None,
        batch_id=None,
        claimed_at=None,
    )
)


@dataclass(frozen=True)
class BatchEmail:
    id: int
    user_id: int
    campaign_id: int
    recipient: Recipient


@dataclass
class BatchReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    stopped_by: str | None = None
    outcomes: dict[int, str] = field(default_factory=dict)


def endpoint_for(account: SMTPSettings, settings: EngineSettings) -> Endpoint:
    """How to reach the account's server (raises `PasswordUnreadable` if its password can't be read)."""
    password = decrypt_password(account.password_encrypted) if account.password_encrypted else ""
    return Endpoint(
        host=account.host,
        port=account.port,
        security=account.security,
        username=account.username,
        password=password,
        timeout=settings.smtp_timeout,
        ca_file=settings.smtp_ca_file,
    )


class BatchSender:
    def __init__(
        self,
        session: Session,
        settings: EngineSettings,
        batch_id: str,
        account_id: int,
        enqueue: Enqueue | None = None,
        sleep: Callable[[float], None] = time.sleep,
        connect: Connect = open_connection,
    ) -> None:
        self.session = session
        self.settings = settings
        self.batch_id = batch_id
        self.account_id = account_id
        self.enqueue = enqueue
        self.sleep = sleep
        self.connect = connect
        self.report = BatchReport()
        self.links = UnsubscribeLinks(settings.secret_key, settings.public_base_url)
        self.connection: smtplib.SMTP | None = None
        self.sent_on_connection = 0
        self.last_sent_at: datetime | None = None
        self.claim_refreshed = time.monotonic()

    # ----- the run -------------------------------------------------------------------------------

    def run(self) -> BatchReport:
        try:
            self._run()
        finally:
            close_quietly(self.connection)
            self.session.rollback()
        return self.report

    def _run(self) -> None:
        if not self._take_batch():
            self.report.stopped_by = "this batch already ran, or its claim expired"
            return
        account = self.session.get_one(SMTPSettings, self.account_id)
        emails = self._load_emails()
        if not emails:
            self._finish([])
            return
        try:
            templates = self._load_templates({email.campaign_id for email in emails})
            self.endpoint = endpoint_for(account, self.settings)
        except PasswordUnreadable as error:
            self._stop_for_account(str(error))
            return
        self.sender = Sender(account.from_address, account.from_name, account.reply_to)
        self.had_account_error = account.last_error is not None
        self.interval = self.settings.interval_for(account)
        last_send_at = account.last_send_at
        self.session.commit()

        self.next_slot = time.monotonic() + self._seconds_until_interval_ends(last_send_at)
        for email in emails:
            self._pause(self.next_slot - time.monotonic())
            if not self._begin(email):
                continue
            if not self._connected():
                return
            outcome = self._send(email, templates.get(email.campaign_id))
            self.next_slot = time.monotonic() + self.interval
            if outcome in STOPPING:
                return
        self._finish(emails)

    # ----- steps -------------------------------------------------------------------------------------

    def _take_batch(self) -> bool:
        """Swap the batch id the task carries for one of this run's own, atomically.

        The task's id is a ticket that only one run can use: a duplicate delivery of the task (Redis
        re-delivers after its visibility timeout) finds it spent and does nothing, so it can neither
        send twice nor give back emails another run is still sending.
        """
        run_id = str(uuid.uuid4())
        now = clock.utcnow()
        taken = self.session.execute(
            sa.update(SMTPSettings)
            .where(SMTPSettings.id == self.account_id, SMTPSettings.batch_id == self.batch_id)
            .values(batch_id=run_id, batch_heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            self.session.rollback()
            return False
        self.session.execute(
            sa.update(Email)
            .where(Email.batch_id == self.batch_id, Email.status == EmailStatus.QUEUED)
            .values(batch_id=run_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
        self.batch_id = run_id
        return True

    def _load_emails(self) -> list[BatchEmail]:
        rows = self.session.execute(
            sa.select(Email.id, Email.user_id, Email.campaign_id, Email.address, Email.name, Email.merge_data)
            .where(Email.batch_id == self.batch_id, Email.status == EmailStatus.QUEUED)
            .order_by(Email.scheduled_at, Email.id)
        ).all()
        return [
            BatchEmail(
                row.id, row.user_id, row.campaign_id, Recipient(row.address, row.name, row.merge_data or {})
            )
            for row in rows
        ]

    def _load_templates(self, campaign_ids: set[int]) -> dict[int, CampaignTemplate | TemplateError]:
        templates: dict[int, CampaignTemplate | TemplateError] = {}
        rows = self.session.execute(
            sa.select(Campaign.id, Campaign.subject, Campaign.html_body, Campaign.text_body).where(
                Campaign.id.in_(campaign_ids)
            )
        )
        for row in rows:
            try:
                templates[row.id] = compiled_template(row.subject, row.html_body, row.text_body)
            except TemplateError as error:
                templates[row.id] = error
        return templates

    def _seconds_until_interval_ends(self, last_send_at: datetime | None) -> float:
        """The account's interval holds across batches, not only within one."""
        if last_send_at is None:
            return 0.0
        return (last_send_at + timedelta(seconds=self.interval) - clock.utcnow()).total_seconds()

    def _pause(self, seconds: float) -> None:
        """Commit, then wait; a long wait keeps refreshing the claim so its lease never runs out."""
        if seconds <= 0:
            return
        self.session.commit()
        slice_length = self.settings.claim_lease / 3
        while seconds > 0:
            self.sleep(min(seconds, slice_length))
            seconds -= slice_length
            if seconds > 0:
                self._refresh_claim(clock.utcnow())
                self.session.commit()

    def _begin(self, email: BatchEmail) -> bool:
        """Move the email to `sending` if it is still ours, its campaign runs and its address is not
        suppressed; refresh the batch's claim; commit. Anything else settles the email without sending."""
        now = clock.utcnow()
        started = self._execute(START_SENDING, email_id=email.id, now=now).rowcount > 0
        if time.monotonic() - self.claim_refreshed >= self.settings.claim_lease / 4:
            self._refresh_claim(now)
        if not started:
            self._settle_unstartable(email)
        self.session.commit()
        return started

    def _settle_unstartable(self, email: BatchEmail) -> None:
        self.report.skipped += 1
        if self._update_email(
            email.id,
            {"status": EmailStatus.SUPPRESSED, **self._released()},
            Email.status == EmailStatus.QUEUED,
            EMAIL_SUPPRESSED,
        ):
            self.report.outcomes[email.id] = EmailStatus.SUPPRESSED
            return
        status = self.session.scalar(sa.select(Campaign.status).where(Campaign.id == email.campaign_id))
        new_status = EmailStatus.CANCELLED if status == CampaignStatus.CANCELLED else EmailStatus.PENDING
        self._update_email(
            email.id, {"status": new_status, **self._released()}, Email.status == EmailStatus.QUEUED
        )

    def _refresh_claim(self, now: datetime) -> None:
        """Tell the dispatcher this run is alive, well inside the lease."""
        self._execute(
            sa.update(EMAIL)
            .where(EMAIL.c.batch_id == self.batch_id, EMAIL.c.status.in_(EmailStatus.CLAIMED))
            .values(claimed_at=now)
        )
        self._update_account(batch_heartbeat_at=now)
        self.claim_refreshed = time.monotonic()

    def _connected(self) -> bool:
        """Connect, or reconnect every `reconnect_every` emails; on failure the batch stops and its
        emails go back untouched."""
        if self.connection is not None and self.sent_on_connection < self.settings.reconnect_every:
            return True
        close_quietly(self.connection)
        self.connection = None
        try:
            self.connection = self.connect(self.endpoint)
        except SMTPFailure as failure:
            self._stop_on_failure(failure, None, classify(failure))
            return False
        self.sent_on_connection = 0
        if self.had_account_error:
            self._update_account(last_error=None, last_error_at=None)
            self.had_account_error = False
        self.sleep(self.settings.connection_settle)
        return True

    def _send(self, email: BatchEmail, template: CampaignTemplate | TemplateError | None) -> Outcome | None:
        try:
            if not isinstance(template, CampaignTemplate):
                raise TemplateError(str(template or "the campaign no longer exists"))
            unsubscribe_url = self.links.url(email.user_id, email.recipient.address)
            message = template.build(self.sender, email.recipient, unsubscribe_url)
        except (TemplateError, ValueError) as error:
            self._fail(email.id, None, f"The message could not be built: {error}")
            return Outcome.PERMANENT
        try:
            send_message(self.connection, message, self.sender.address, email.recipient.address)
        except SMTPFailure as failure:
            return self._handle_failure(email, failure)
        finally:
            self.sent_on_connection += 1
        self.last_sent_at = clock.utcnow()
        self._execute(
            MARK_SENT, email_id=email.id, now=self.last_sent_at, new_message_id=message["Message-ID"]
        )
        self.report.sent += 1
        self.report.outcomes[email.id] = EmailStatus.SENT
        return None

    def _handle_failure(self, email: BatchEmail, failure: SMTPFailure) -> Outcome:
        outcome = classify(failure)
        log.info("batch %s email %s: %s (%s)", self.batch_id, email.id, outcome, failure.reply)
        if outcome in STOPPING:
            self._stop_on_failure(failure, email.id, outcome)
        elif outcome is Outcome.PERMANENT:
            self._fail(email.id, failure.code, failure.reply, attempts=EMAIL.c.attempts + 1)
        else:
            self._retry_later(email.id, failure)
        if closes_connection(failure) and outcome is Outcome.TRANSIENT:
            close_quietly(self.connection)
            self.connection = None
        return outcome

    # ----- outcomes ----------------------------------------------------------------------------------

    def _fail(self, email_id: int, code: int | None, reply: str, **values: Any) -> None:
        self._update_email(
            email_id,
            {
                "status": EmailStatus.FAILED,
                "last_smtp_code": code,
                "last_smtp_message": reply,
                **values,
                **self._released(),
            },
        )
        self.report.failed += 1
        self.report.outcomes[email_id] = EmailStatus.FAILED

    def _retry_later(self, email_id: int, failure: SMTPFailure) -> None:
        attempts = self.session.scalar(sa.select(Email.attempts).where(Email.id == email_id)) + 1
        if attempts >= self.settings.max_attempts:
            self._fail(
                email_id,
                failure.code,
                f"Gave up after {attempts} attempts: {failure.reply}",
                attempts=attempts,
            )
            return
        self._update_email(
            email_id,
            {
                "status": EmailStatus.PENDING,
                "attempts": attempts,
                "next_attempt_at": clock.utcnow() + timedelta(seconds=self.settings.backoff_after(attempts)),
                "last_smtp_code": failure.code,
                "last_smtp_message": failure.reply,
                **self._released(),
            },
        )
        self.report.retried += 1
        self.report.outcomes[email_id] = EmailStatus.PENDING

    def _stop_on_failure(self, failure: SMTPFailure, email_id: int | None, outcome: Outcome) -> None:
        """A rate limit or an account problem: nothing counts as an attempt and the batch stops."""
        if outcome is Outcome.RATE_LIMIT:
            retry_at = clock.utcnow() + timedelta(seconds=self.settings.rate_limit_retry)
            if email_id is not None:
                self._update_email(
                    email_id,
                    {
                        "status": EmailStatus.PENDING,
                        "rate_limit_retry_at": retry_at,
                        "last_smtp_code": failure.code,
                        "last_smtp_message": failure.reply,
                        **self._released(),
                    },
                )
            self._update_account(paused_until=retry_at, pause_reason=failure.reply)
            self.report.stopped_by = f"rate limit: {failure.reply}"
            self._finish([])
            return
        self._stop_for_account(account_error_message(failure), email_id)

    def _stop_for_account(self, message: str, email_id: int | None = None) -> None:
        if email_id is not None:
            self._update_email(email_id, {"status": EmailStatus.PENDING, **self._released()})
        self._update_account(last_error=message, last_error_at=clock.utcnow())
        self.report.stopped_by = f"account: {message}"
        self._finish([])

    def _return_rest(self) -> None:
        """The batch's emails not yet tried go back to `pending`, untouched."""
        self._execute(
            sa.update(EMAIL)
            .where(EMAIL.c.batch_id == self.batch_id, EMAIL.c.status.in_(EmailStatus.CLAIMED))
            .values(status=EmailStatus.PENDING, **self._released())
        )

    def _finish(self, emails: list[BatchEmail]) -> None:
        """Free the account (noting when it last sent, for the next batch's interval), complete
        finished campaigns, and ask at once for the account's next batch."""
        self._return_rest()
        last_send = {"last_send_at": self.last_sent_at} if self.last_sent_at else {}
        self._update_account(batch_id=None, batch_heartbeat_at=None, **last_send)
        self.session.commit()
        complete_finished_campaigns(self.session, sorted({email.campaign_id for email in emails}))
        if self.report.stopped_by is None and self.enqueue is not None:
            claim = claim_batch(self.session, self.settings, self.account_id)
            if claim is not None:
                self.enqueue(claim.batch_id, claim.account_id, 0.0)

    # ----- small helpers -----------------------------------------------------------------------------

    @staticmethod
    def _released() -> dict[str, Any]:
        return {"batch_id": None, "claimed_at": None}

    def _execute(self, statement: sa.Executable, **params: Any) -> sa.CursorResult:
        """A Core statement on the session's connection, inside its transaction, with this run's id."""
        return self.session.connection().execute(statement, {"run_id": self.batch_id, **params})

    def _update_email(
        self, email_id: int, values: dict[str, Any], *conditions: sa.ColumnElement[bool]
    ) -> bool:
        statement = sa.update(EMAIL).where(OF_THIS_RUN, *conditions).values(**values)
        return self._execute(statement, email_id=email_id).rowcount > 0

    def _update_account(self, **values: Any) -> None:
        self._execute(
            sa.update(ACCOUNT)
            .where(ACCOUNT.c.id == self.account_id, ACCOUNT.c.batch_id == sa.bindparam("run_id"))
            .values(**values)
        )
