"""What a batch writes: taking its ticket, loading its work, and each email's outcome.

Every method runs inside the caller's transaction (the caller commits), as prepared Core statements:
the ORM's per-statement overhead was half the send path's cost. The two of every email (`begin`,
`sent`) run on the driver's cursor (`app.sending.driver_statements`), in one statement on PostgreSQL.
Every write is guarded by this run's id, so a run whose claim was recovered from under it (its worker
looked dead) changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

import sqlalchemy as sa

from app import clock
from app.models import Campaign, Email, SMTPSettings
from app.recipient import Recipient
from app.sending.builders import CampaignSource
from app.sending.dispatcher import completing, release_emails
from app.sending.driver_statements import DriverStatement
from app.sending.executors import Transaction, connection_of
from app.sending.replies import smtp_reply
from app.sending.settings import EngineSettings
from app.sending.suppression import EMAIL_SUPPRESSED
from app.states import DELIVERED, RELEASED, RUNNING, CampaignStatus, EmailStatus

EMAIL = Email.__table__
ACCOUNT = SMTPSettings.__table__
CAMPAIGN_RUNNING = (
    sa.select(Campaign.id).where(Campaign.id == EMAIL.c.campaign_id, Campaign.status.in_(RUNNING)).exists()
)
OF_THIS_RUN = sa.and_(EMAIL.c.id == sa.bindparam("email_id"), EMAIL.c.batch_id == sa.bindparam("run_id"))
#: `queued -> sending`, giving the email its Message-ID once, before its first try: a copy re-sent after
#: a crash carries the same one, so the recipient's mailbox can collapse the two.
_START_SENDING = (
    sa.update(EMAIL)
    .where(OF_THIS_RUN, EMAIL.c.status == EmailStatus.QUEUED, CAMPAIGN_RUNNING, ~EMAIL_SUPPRESSED)
    .values(
        status=EmailStatus.SENDING,
        claimed_at=sa.bindparam("now"),
        message_id=sa.func.coalesce(EMAIL.c.message_id, sa.bindparam("new_message_id")),
    )
)


def _mark_sent(email_id: str, sent_at: str) -> sa.Update:
    """What the server accepted is recorded whatever became of the claim: if the worker looked dead and
    the email went back to `pending`, marking it sent keeps it from going out a second time."""
    return (
        sa.update(EMAIL)
        .where(EMAIL.c.id == sa.bindparam(email_id), EMAIL.c.status != EmailStatus.SENT)
        .values(
            status=EmailStatus.SENT,
            attempts=EMAIL.c.attempts + 1,
            sent_at=sa.bindparam(sent_at),
            last_smtp_code=250,
            last_smtp_message=None,
            **RELEASED,
        )
    )


START_SENDING = DriverStatement(_START_SENDING)
MARK_SENT = DriverStatement(_mark_sent("email_id", "now"))
#: The last email's `sent` and this one's `sending` in one statement (PostgreSQL; SQLite has no UPDATE
#: in a WITH): one round trip instead of two, and the counter trigger (`app.email_counts`) runs once for
#: both rows. Measured on one connection: 0.17 ms of the worker's CPU and 0.8 ms of PostgreSQL's an
#: email, against 0.3 and 1.3 ms as two statements (docs/benchmarks.md).
SENT_THEN_START = DriverStatement(_START_SENDING.add_cte(_mark_sent("sent_id", "sent_at").cte("just_sent")))
ROLLING_DAY = timedelta(days=1)
#: What a run needs of its account.
ACCOUNT_WORK = (
    ACCOUNT.c.host,
    ACCOUNT.c.port,
    ACCOUNT.c.security,
    ACCOUNT.c.username,
    ACCOUNT.c.password_encrypted,
    ACCOUNT.c.from_address,
    ACCOUNT.c.from_name,
    ACCOUNT.c.reply_to,
    ACCOUNT.c.send_interval,
    ACCOUNT.c.last_send_at,
    ACCOUNT.c.last_error,
)
#: What a run needs of each of its emails.
EMAIL_WORK = (
    EMAIL.c.id,
    EMAIL.c.user_id,
    EMAIL.c.campaign_id,
    EMAIL.c.address,
    EMAIL.c.name,
    EMAIL.c.merge_data,
    EMAIL.c.scheduled_at,
    EMAIL.c.message_id,
)
#: A run's ticket swapped for its own id, returning what the run needs of its account.
TAKE_ACCOUNT = (
    sa.update(ACCOUNT)
    .where(ACCOUNT.c.id == sa.bindparam("account_id"), ACCOUNT.c.batch_id == sa.bindparam("ticket"))
    .values(batch_id=sa.bindparam("run_id"), batch_heartbeat_at=sa.bindparam("now"))
    .returning(*ACCOUNT_WORK)
)
#: The ticket's emails moved to the run, returning what the run needs of each.
TAKE_EMAILS = (
    sa.update(EMAIL)
    .where(EMAIL.c.batch_id == sa.bindparam("ticket"), EMAIL.c.status == EmailStatus.QUEUED)
    .values(batch_id=sa.bindparam("run_id"), claimed_at=sa.bindparam("now"))
    .returning(*EMAIL_WORK)
)
#: The same, read for a run whose id is its ticket (`BatchLedger.claimed_here`).
READ_ACCOUNT = sa.select(*ACCOUNT_WORK).where(
    ACCOUNT.c.id == sa.bindparam("account_id"), ACCOUNT.c.batch_id == sa.bindparam("run_id")
)
READ_EMAILS = sa.select(*EMAIL_WORK).where(
    EMAIL.c.batch_id == sa.bindparam("run_id"), EMAIL.c.status == EmailStatus.QUEUED
)
CAMPAIGN = Campaign.__table__
CAMPAIGN_SOURCES = sa.select(
    CAMPAIGN.c.id, CAMPAIGN.c.subject, CAMPAIGN.c.html_body, CAMPAIGN.c.text_body, CAMPAIGN.c.preheader
).where(CAMPAIGN.c.id.in_(sa.bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class BatchEmail:
    id: int
    user_id: int
    campaign_id: int
    recipient: Recipient
    #: Given by an earlier try (`START_SENDING`), kept by every later one.
    message_id: str | None = None

    def message_id_on(self, domain: str) -> str:
        """The Message-ID this email goes out with: its own, or a new one on the sender's domain."""
        return self.message_id or make_msgid(domain=domain)


@dataclass(frozen=True)
class Sent:
    """An email the server accepted, not yet recorded: it rides on the next email's start."""

    email_id: int
    at: datetime


@dataclass(frozen=True)
class BatchWork:
    """What a run needs from the database, read in the transaction that took its ticket."""

    #: The account's address, sender and pacing (`TAKE_ACCOUNT`'s columns).
    account: sa.Row[Any]
    emails: list[BatchEmail]
    campaigns: dict[int, CampaignSource]


@dataclass
class BatchReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    stopped_by: str | None = None

    @property
    def continues(self) -> bool:
        """Whether the account may go on to its next batch at once."""
        return self.stopped_by is None


class BatchLedger:
    """The database side of one run of a batch."""

    def __init__(self, ticket: str, account_id: int, report: BatchReport, run_id: str | None = None) -> None:
        self.ticket = ticket
        self.run_id = run_id or str(uuid.uuid4())
        self.account_id = account_id
        self.report = report

    @classmethod
    def claimed_here(cls, ticket: str, account_id: int) -> BatchLedger:
        """The run of a batch that the run before it claimed in its own transaction: no task carries
        its ticket, so nothing can deliver it twice, and the ticket serves as the run's id (`read`
        instead of `take`: the claimed rows are not written again)."""
        return cls(ticket, account_id, BatchReport(), run_id=ticket)

    # ----- start -------------------------------------------------------------------------------------

    def take(self, transaction: Transaction) -> BatchWork | None:
        """Swap the ticket the task carries for this run's own id, atomically, and read the work.

        The ticket is single-use: a duplicate delivery of the task (Redis re-delivers after its
        visibility timeout) finds it spent and does nothing, so it can neither send twice nor give back
        emails another run is still sending.
        """
        return self._work(transaction, TAKE_ACCOUNT, TAKE_EMAILS)

    def read(self, transaction: Transaction) -> BatchWork | None:
        """The work of a run `claimed_here`, as `take` returns it."""
        return self._work(transaction, READ_ACCOUNT, READ_EMAILS)

    def _work(
        self, transaction: Transaction, account_statement: sa.Executable, emails_statement: sa.Executable
    ) -> BatchWork | None:
        connection = connection_of(transaction)
        params = {
            "account_id": self.account_id,
            "ticket": self.ticket,
            "run_id": self.run_id,
            "now": clock.utcnow(),
        }
        account = connection.execute(account_statement, params).first()
        if account is None:
            return None
        rows = sorted(
            connection.execute(emails_statement, params), key=lambda row: (row.scheduled_at, row.id)
        )
        emails = [
            BatchEmail(
                row.id,
                row.user_id,
                row.campaign_id,
                Recipient(row.address, row.name, row.merge_data or {}),
                row.message_id,
            )
            for row in rows
        ]
        return BatchWork(
            account, emails, self._campaigns(transaction, {email.campaign_id for email in emails})
        )

    @staticmethod
    def _campaigns(transaction: Transaction, campaign_ids: set[int]) -> dict[int, CampaignSource]:
        rows = connection_of(transaction).execute(CAMPAIGN_SOURCES, {"ids": list(campaign_ids)})
        return {
            row.id: CampaignSource(row.subject, row.html_body, row.text_body, row.preheader) for row in rows
        }

    # ----- each email --------------------------------------------------------------------------------

    def begin(
        self, transaction: Transaction, email: BatchEmail, message_id: str, sent: Sent | None = None
    ) -> bool:
        """Move the email to `sending` if it is still ours, its campaign runs and its address is not
        suppressed, giving it `message_id` unless an earlier try gave it one (the batch builds with
        `BatchEmail.message_id_on`, which is that one); anything else settles the email without
        sending (False). The last email's `sent`, if given, is written with it."""
        connection = connection_of(transaction)
        dialect = connection.dialect.name
        one_statement = self.begin_alone(dialect, email, message_id, sent)
        if one_statement is None:  # no statement for both here: `sent` first, then the start
            assert sent is not None
            self.sent(transaction, sent)
            sent, one_statement = None, self.begin_alone(dialect, email, message_id, None)
            assert one_statement is not None
        statement, params = one_statement
        started = self.began_alone(statement.run(connection, params), sent)
        if not started:
            self.settle_unstartable(transaction, email)
        return started

    def begin_alone(
        self, dialect: str, email: BatchEmail, message_id: str, sent: Sent | None
    ) -> tuple[DriverStatement, dict[str, Any]] | None:
        """`begin` (after `sent`, if given) as one statement committed on its own (`Database.run_alone`),
        where the database has one (with `sent`: PostgreSQL; SQLite has no UPDATE in a WITH). The rows it
        changed go to `began_alone`; an email that did not start is then settled by `settle_unstartable`."""
        if sent is None:
            return START_SENDING, self._start_params(email, message_id)
        if dialect != "postgresql":
            return None
        return SENT_THEN_START, self._start_params(email, message_id, sent)

    def began_alone(self, started: int, sent: Sent | None) -> bool:
        """Whether the email of `begin_alone` started; `sent` is counted."""
        if sent is not None:
            self.report.sent += 1
        return started > 0

    def _start_params(self, email: BatchEmail, message_id: str, sent: Sent | None = None) -> dict[str, Any]:
        params = {
            "run_id": self.run_id,
            "email_id": email.id,
            "now": clock.utcnow(),
            "new_message_id": message_id,
        }
        if sent is not None:
            params |= {"sent_id": sent.email_id, "sent_at": sent.at}
        return params

    def settle_unstartable(self, transaction: Transaction, email: BatchEmail) -> None:
        """An email that may not start after all: suppressed, or back to `pending` (its campaign paused)
        or `cancelled`."""
        self.report.skipped += 1
        if self._update_email(
            transaction,
            email.id,
            {"status": EmailStatus.SUPPRESSED, **RELEASED},
            EMAIL.c.status == EmailStatus.QUEUED,
            EMAIL_SUPPRESSED,
        ):
            return
        status = connection_of(transaction).scalar(
            sa.select(Campaign.status).where(Campaign.id == email.campaign_id)
        )
        new_status = EmailStatus.CANCELLED if status == CampaignStatus.CANCELLED else EmailStatus.PENDING
        self._update_email(
            transaction, email.id, {"status": new_status, **RELEASED}, EMAIL.c.status == EmailStatus.QUEUED
        )

    def sent(self, transaction: Transaction, sent: Sent) -> None:
        MARK_SENT.run(connection_of(transaction), {"email_id": sent.email_id, "now": sent.at})
        self.report.sent += 1

    def failed(
        self,
        transaction: Transaction,
        email_id: int,
        code: int | None,
        message: str,
        *,
        permanent: bool,
        **values: Any,
    ) -> None:
        """Fail the email with the server's reply: its code and its text, kept apart (`smtp_reply`
        joins them for a person); `permanent` when it failed for good rather than by giving up on
        temporary failures."""
        self._update_email(
            transaction,
            email_id,
            {
                "status": EmailStatus.FAILED,
                "last_smtp_code": code,
                "last_smtp_message": message,
                "permanent_failure": permanent,
                **values,
                **RELEASED,
            },
        )
        self.report.failed += 1

    def rejected(self, transaction: Transaction, email_id: int, code: int | None, message: str) -> None:
        """The recipient's server refused it for good: one attempt, failed with its reply."""
        self.failed(transaction, email_id, code, message, permanent=True, attempts=EMAIL.c.attempts + 1)

    def retry_later(
        self,
        transaction: Transaction,
        email_id: int,
        code: int | None,
        message: str,
        settings: EngineSettings,
        wait: float | None = None,
    ) -> None:
        """Count the attempt and back off (or wait as long as the reply asked), or fail the email after
        `max_attempts`."""
        attempts = (
            connection_of(transaction)
            .execute(sa.select(Email.attempts).where(Email.id == email_id))
            .scalar_one()
            + 1
        )
        if attempts >= settings.max_attempts:
            self.failed(
                transaction,
                email_id,
                code,
                f"{message} (gave up after {attempts} attempts)",
                permanent=False,
                attempts=attempts,
            )
            return
        self._update_email(
            transaction,
            email_id,
            {
                "status": EmailStatus.PENDING,
                "attempts": attempts,
                "next_attempt_at": clock.utcnow()
                + timedelta(seconds=wait or settings.backoff_after(attempts)),
                "last_smtp_code": code,
                "last_smtp_message": message,
                **RELEASED,
            },
        )
        self.report.retried += 1

    # ----- the whole account -------------------------------------------------------------------------

    def rate_limited(
        self,
        transaction: Transaction,
        email_id: int | None,
        code: int | None,
        message: str,
        cooldown: timedelta,
        *,
        daily: bool = False,
        pause_reason: str | None = None,
    ) -> None:
        """A rate limit: the email waits for the cooldown, uncounted; the account cools down. A daily quota
        lasts until the oldest email the account sent within the last 24 hours is a day old: that is
        when a provider counting a rolling day (Gmail, SES) lets the next one through."""
        retry_at = clock.utcnow() + cooldown
        if daily:
            retry_at = max(retry_at, self._rolling_day_ends(transaction))
        if email_id is not None:
            self._update_email(
                transaction,
                email_id,
                {
                    "status": EmailStatus.PENDING,
                    "rate_limit_retry_at": retry_at,
                    "last_smtp_code": code,
                    "last_smtp_message": message,
                    **RELEASED,
                },
            )
        reply = smtp_reply(code, message)
        self.update_account(transaction, paused_until=retry_at, pause_reason=pause_reason or reply)
        self.report.stopped_by = f"rate limit: {reply}"

    def _rolling_day_ends(self, transaction: Transaction) -> datetime:
        now = clock.utcnow()
        oldest = connection_of(transaction).scalar(
            sa.select(sa.func.min(EMAIL.c.sent_at)).where(
                EMAIL.c.smtp_account_id == self.account_id,
                EMAIL.c.status.in_(DELIVERED),
                EMAIL.c.sent_at > now - ROLLING_DAY,
            )
        )
        return (oldest or now) + ROLLING_DAY

    def give_back(self, transaction: Transaction, email_id: int) -> None:
        """The email was not tried after all: back to `pending`, untouched."""
        self._update_email(transaction, email_id, {"status": EmailStatus.PENDING, **RELEASED})

    def account_failed(
        self, transaction: Transaction, message: str, email_id: int | None = None, *, holds: bool = False
    ) -> None:
        """An account problem: the email goes back untouched and the account shows the error; one only the
        user can solve (`holds`) keeps the account from sending until they act."""
        if email_id is not None:
            self._update_email(transaction, email_id, {"status": EmailStatus.PENDING, **RELEASED})
        self.update_account(transaction, last_error=message, last_error_at=clock.utcnow(), held=holds)
        self.report.stopped_by = f"account: {message}"

    def unfail(self, transaction: Transaction, email_ids: list[int]) -> None:
        """Emails failed by this run go back to `pending` as if never tried: the circuit breaker found
        that their refusal was the account's, not theirs."""
        unfailed = (
            connection_of(transaction)
            .execute(
                sa.update(EMAIL)
                .where(EMAIL.c.id.in_(email_ids), EMAIL.c.status == EmailStatus.FAILED)
                .values(
                    status=EmailStatus.PENDING,
                    attempts=EMAIL.c.attempts - 1,
                    last_smtp_code=None,
                    last_smtp_message=None,
                    permanent_failure=False,
                )
            )
            .rowcount
        )
        self.report.failed -= unfailed

    def finish(self, transaction: Transaction, last_sent_at: datetime | None) -> None:
        """Return what was not tried and free the account (noting when it last sent, for the next
        batch's interval)."""
        release_emails(transaction, self.run_id)
        last_send = {"last_send_at": last_sent_at} if last_sent_at else {}
        self.update_account(transaction, batch_id=None, batch_heartbeat_at=None, **last_send)

    @staticmethod
    def complete(transaction: Transaction, campaign_ids: list[int]) -> None:
        """Complete those of these campaigns with nothing left to send."""
        if campaign_ids:
            connection_of(transaction).execute(completing(campaign_ids))

    def update_account(self, transaction: Transaction, **values: Any) -> None:
        connection_of(transaction).execute(
            sa.update(ACCOUNT)
            .where(ACCOUNT.c.id == self.account_id, ACCOUNT.c.batch_id == self.run_id)
            .values(**values)
        )

    def _update_email(
        self,
        transaction: Transaction,
        email_id: int,
        values: dict[str, Any],
        *conditions: sa.ColumnElement[bool],
    ) -> bool:
        statement = sa.update(EMAIL).where(OF_THIS_RUN, *conditions).values(**values)
        return (
            connection_of(transaction)
            .execute(statement, {"run_id": self.run_id, "email_id": email_id})
            .rowcount
            > 0
        )
