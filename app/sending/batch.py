"""The batch sender: one SMTP connection, the batch's emails one by one at the account's pace.

A batch is a coroutine, so one worker process runs the batches of every sending account at once: while
an account waits out its interval it holds its open SMTP connection and nothing else — no thread, no
database connection, no transaction (its writes are short transactions run by `Database`, see
`app.sending.executors`). What each outcome writes lives in `app.sending.outcomes`; this module keeps
the loop, the pacing and the connection's life.

Idempotent: a run first swaps the task's ticket for its own id, so a duplicate delivery of the task finds
nothing to do; an email is sent only after an atomic `queued -> sending` update of its own row. One
commit carries the last email's outcome and this one's `sending`, and runs while this email's message
goes out; the message's final `.` waits for it (`_attempt`), so a batch costs one commit per email, the
commit costs no time of its own, and at most one email is ever in doubt.

When the account has more due mail, the batch's last transaction claims and takes its next batch
(`claim_next`, `TakenBatch`), which goes on on the same SMTP connection if the account's server is
unchanged (a new one every `RECONNECT_EVERY` emails still): between two batches, one commit and no
reconnection. Measured before this, the seam between two batches of 20 cost 16 ms, a quarter of the
send path's time (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, TypeVar

import aiosmtplib
from jinja2 import TemplateError

from app import clock
from app.sending.advice import account_error_message, breaker_message, cooldown_reason
from app.sending.builders import Builder, CampaignSource, InlineBuilder
from app.sending.classify import (
    RECIPIENT_STAGES,
    Outcome,
    Verdict,
    classify,
    closes_connection,
    is_permanent,
    is_temporary,
    refusal_signature,
)
from app.sending.connection import (
    Endpoint,
    SMTPFailure,
    close_quietly,
    end_message,
    endpoint_for,
    open_connection,
    start_message,
)
from app.sending.dispatcher import Claim
from app.sending.executors import Database, Transaction
from app.sending.message import Sender
from app.sending.outcomes import BatchEmail, BatchLedger, BatchReport, BatchWork, Sent
from app.sending.settings import EngineSettings
from app.sending.smtp_data import OpenData
from app.sending.unsubscribe_links import UnsubscribeLinks

log = logging.getLogger(__name__)

Connect = Callable[[Endpoint], Awaitable[aiosmtplib.SMTP]]
Pause = Callable[[float], Awaitable[None]]
Write = Callable[[Transaction], object]
T = TypeVar("T")
STOPPING = (Outcome.RATE_LIMIT, Outcome.ACCOUNT)
#: An attempt whose email could not start (its campaign paused or cancelled, its address suppressed).
NOT_STARTED: Final = "not started"
#: How an attempt ended: sent (None), not started, or the outcome of its failure.
Attempt = Outcome | None | Literal["not started"]
#: How many recipients in a row may get the same refusal that does not name their mailbox before the
#: circuit breaker holds the account (DESIGN.md, "Batch sender").
BREAKER_THRESHOLD = 3


@dataclass(frozen=True)
class OpenConnection:
    """An SMTP connection one batch leaves open for its account's next one."""

    smtp: aiosmtplib.SMTP
    endpoint: Endpoint
    #: Emails sent on it so far (it is replaced every `reconnect_every`).
    sent: int


@dataclass
class TakenBatch:
    """A batch whose work its run has read already (`BatchLedger.read`; None if it was gone), and the
    connection the batch before it left open, if any: it goes on with it when the account's server is
    still the same."""

    ledger: BatchLedger
    work: BatchWork | None
    connection: OpenConnection | None = None


class BatchSender:
    """Sends one claimed batch of one account (or one `taken` already)."""

    def __init__(
        self,
        database: Database,
        settings: EngineSettings,
        ticket: str,
        account_id: int,
        decrypt: Callable[[bytes], str],
        *,
        builder: Builder | None = None,
        connect: Connect = open_connection,
        pause: Pause | None = None,
        stopping: asyncio.Event | None = None,
        claim_next: Callable[[Transaction], list[Claim]] | None = None,
        taken: TakenBatch | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.decrypt = decrypt
        self.builder = builder or InlineBuilder()
        self.connect = connect
        self.stopping = stopping or asyncio.Event()
        self.pause = pause or self._pause
        self.taken = taken
        #: The connection the batch before left open, until this batch goes on with it or closes it.
        self.handed = taken.connection if taken else None
        self.ledger = taken.ledger if taken else BatchLedger(ticket, account_id, BatchReport())
        self.report = self.ledger.report
        self.links = UnsubscribeLinks(settings.secret_key, settings.public_base_url)
        self.connection: aiosmtplib.SMTP | None = None
        self.sent_on_connection = 0
        self.last_sent_at: datetime | None = None
        #: Writes waiting to ride on the next transaction.
        self.deferred: list[Write] = []
        #: The email the server accepted last, not yet recorded: it rides on the next one's start, in
        #: one statement with it (`BatchLedger.begin`), or on whatever transaction comes first.
        self.unrecorded: Sent | None = None
        #: The emails refused in a row with the same refusal (`refusal_signature`), for the circuit breaker.
        self.refused_in_a_row: list[int] = []
        self.last_refusal: str | None = None
        #: Whether the next email's start commits while its message goes out (see `_attempt`).
        self.overlap = True
        self.claim_next = claim_next
        #: The account's next batch, claimed by `claim_next` and taken in this batch's last transaction
        #: when the account may go on: one commit between two batches, not three.
        self.next_batch: TakenBatch | None = None

    async def run(self) -> BatchReport:
        try:
            work = self.taken.work if self.taken else await self.database.run(self.ledger.take)
            if work is None:
                self.report.stopped_by = "this batch already ran, or its claim expired"
                return self.report
            await self._run_and_finish(work)
        finally:
            if self.handed is not None:  # the batch stopped before it could decide
                await close_quietly(self.handed.smtp)
        return self.report

    async def _run_and_finish(self, work: BatchWork) -> None:
        """Send, then finish the batch (claiming the account's next one): its connection is handed to
        that one if still usable, else closed."""
        campaign_ids = sorted({email.campaign_id for email in work.emails})
        try:
            await self._run(work)
        except Exception:
            log.exception("batch %s of account %s failed", self.ledger.run_id, self.ledger.account_id)
            self.report.stopped_by = "an unexpected error (logged)"
        finally:
            try:
                await self._write(functools.partial(self._finish, campaign_ids=campaign_ids))
            finally:
                await self._hand_over_or_close()

    async def _hand_over_or_close(self) -> None:
        if self.next_batch is not None and self.connection is not None and self._connection_usable():
            self.next_batch.connection = OpenConnection(
                self.connection, self.endpoint, self.sent_on_connection
            )
        else:
            await close_quietly(self.connection)

    def _finish(self, transaction: Transaction, campaign_ids: list[int]) -> None:
        """Free the account, claim and take its next batch if it may go on, and complete the campaigns
        with nothing left to send: not those the next batch sends, which cannot be."""
        self.ledger.finish(transaction, self.last_sent_at)
        self.next_batch = None  # this work may run twice (`ThreadedDatabase`): only the committed run counts
        going_on: set[int] = set()
        if self.claim_next is not None and self.report.continues and not self.stopping.is_set():
            claims = self.claim_next(transaction)
            if claims:
                ledger = BatchLedger.claimed_here(claims[0].batch_id, self.ledger.account_id)
                self.next_batch = TakenBatch(ledger, ledger.read(transaction))
                going_on = claims[0].campaign_ids
        BatchLedger.complete(transaction, [campaign for campaign in campaign_ids if campaign not in going_on])

    async def _run(self, work: BatchWork) -> None:
        if not work.emails:
            return
        account = work.account
        try:
            self.endpoint = endpoint_for(account, self.settings, self.decrypt)
        except Exception as error:  # the password can't be read with the current key
            unreadable = str(error)
            self.deferred.append(lambda transaction: self.ledger.account_failed(transaction, unreadable))
            return
        await self._go_on_with_handed()
        self.sender = Sender(account.from_address, account.from_name, account.reply_to)
        self.had_account_error = account.last_error is not None
        self.interval = self.settings.interval_for(account)
        next_slot = time.monotonic() + self._seconds_until_interval_ends(account.last_send_at)
        for email in work.emails:
            wait = next_slot - time.monotonic()
            if wait > 0:
                await self._flush()
                await self.pause(wait)
            if self.stopping.is_set():
                self.report.stopped_by = "the worker is stopping"
                return
            outcome = await self._attempt(email, work.campaigns.get(email.campaign_id))
            if outcome is NOT_STARTED:
                continue
            next_slot = time.monotonic() + self.interval
            if outcome in STOPPING:
                return

    # ----- steps -------------------------------------------------------------------------------------

    async def _go_on_with_handed(self) -> None:
        """Go on with the connection the batch before left open if the account's server is the same;
        close it at once if not."""
        handed, self.handed = self.handed, None
        if handed is None:
            return
        if handed.endpoint == self.endpoint:
            self.connection, self.sent_on_connection = handed.smtp, handed.sent
        else:
            await close_quietly(handed.smtp)

    def _seconds_until_interval_ends(self, last_send_at: datetime | None) -> float:
        """The account's interval holds across batches, not only within one."""
        if last_send_at is None:
            return 0.0
        return (last_send_at + timedelta(seconds=self.interval) - clock.utcnow()).total_seconds()

    async def _pause(self, seconds: float) -> None:
        """Wait out the interval, or less if the worker is stopping."""
        await wait_unless(self.stopping, seconds)

    def _connection_usable(self) -> bool:
        """Open, and short of `reconnect_every` emails."""
        connection = self.connection
        return (
            connection is not None
            and connection.is_connected
            and self.sent_on_connection < self.settings.reconnect_every
        )

    async def _connected(self) -> bool:
        """Connect, or reconnect every `reconnect_every` emails; on failure the batch stops and its
        emails go back untouched."""
        if self._connection_usable():
            return True
        await close_quietly(self.connection)
        self.connection = None
        try:
            self.connection = await self.connect(self.endpoint)
        except SMTPFailure as failure:
            self._stop_on_failure(failure, None, classify(failure))
            return False
        self.sent_on_connection = 0
        if self.had_account_error:
            self.deferred.append(
                lambda transaction: self.ledger.update_account(
                    transaction, last_error=None, last_error_at=None
                )
            )
            self.had_account_error = False
        if self.settings.connection_settle:
            await self._flush()
            await self.pause(self.settings.connection_settle)
        return True

    async def _attempt(self, email: BatchEmail, source: CampaignSource | None) -> Attempt:
        """Start the email and send it, the two overlapped: the commit that carries the last email's
        outcome and this one's `sending` runs while this message goes out, and the message is ended
        (its final `.`) only once that commit has returned, so at most one email is ever in doubt.
        An email that may not start after all (its campaign paused, its address suppressed) is
        abandoned before its end, and the next email waits for its commit before talking to the server
        (a paused campaign's other emails then cost no reconnection each)."""
        message_id = email.message_id_on(self.sender.domain)
        sent, self.unrecorded = self.unrecorded, None
        starting = asyncio.ensure_future(self._begin(email, message_id, sent))
        try:
            if not (self.overlap and self._connection_usable()):
                if not await starting:
                    return NOT_STARTED
                if not await self._connected():
                    return Outcome.ACCOUNT
            return await self._send(email, source, message_id, starting)
        finally:
            if not starting.done():  # an error or a cancellation before the commit was awaited
                await asyncio.wait([starting])

    async def _begin(self, email: BatchEmail, message_id: str, sent: Sent | None) -> bool:
        """The commit that records `sent` and starts `email`: one statement on its own where the database
        has one and nothing else waits to be written, else a transaction (`BatchLedger.begin`)."""
        alone = (
            None if self.deferred else self.ledger.begin_alone(self.database.dialect, email, message_id, sent)
        )
        if alone is None:
            return await self._write(
                functools.partial(self.ledger.begin, email=email, message_id=message_id, sent=sent)
            )
        if self.ledger.began_alone(await self.database.run_alone(*alone), sent):
            return True
        await self._write(functools.partial(self.ledger.settle_unstartable, email=email))
        return False

    async def _started(self, starting: asyncio.Future[bool], data: OpenData | None = None) -> bool:
        """Whether the email's start committed; an open message of an email that did not start, or
        whose commit failed, is abandoned."""
        try:
            started = await starting
        except BaseException:
            self._abandon(data)
            raise
        self.overlap = started
        if not started:
            self._abandon(data)
        return started

    def _abandon(self, data: OpenData | None) -> None:
        if data is not None:
            data.abandon()
            self.connection = None

    async def _send(
        self,
        email: BatchEmail,
        source: CampaignSource | None,
        message_id: str,
        starting: asyncio.Future[bool],
    ) -> Attempt:
        unsubscribe_url = self.links.url(email.user_id, email.recipient.address)
        try:
            if source is None:
                raise TemplateError("the campaign no longer exists")
            message = await self.builder.build(
                source, self.sender, email.recipient, unsubscribe_url, message_id
            )
        except (TemplateError, ValueError) as error:
            if not await self._started(starting):
                return NOT_STARTED
            reason = f"The message could not be built: {error}"
            await self._write(
                lambda transaction: self.ledger.failed(transaction, email.id, None, reason, permanent=True)
            )
            return Outcome.PERMANENT
        except BrokenProcessPool:  # the worker is stopping, or its build process could not start
            log.warning(
                "batch %s: the message builder's process is gone; email %s waits",
                self.ledger.run_id,
                email.id,
            )
            if await self._started(starting):
                await self._write(lambda transaction: self.ledger.give_back(transaction, email.id))
            self.report.stopped_by = "the message builder stopped"
            return Outcome.ACCOUNT
        assert self.connection is not None
        connection = self.connection
        try:
            try:
                data = await start_message(connection, message, self.sender.address, email.recipient.address)
            except SMTPFailure:
                if not await self._started(starting):
                    return NOT_STARTED
                raise
            if not await self._started(starting, data):
                return NOT_STARTED
            await end_message(connection, data)
        except SMTPFailure as failure:
            return await self._handle_failure(email, failure)
        finally:
            self.sent_on_connection += 1
        self.last_sent_at = sent_at = clock.utcnow()
        self.refused_in_a_row.clear()
        self.unrecorded = Sent(email.id, sent_at)
        return None

    async def _handle_failure(self, email: BatchEmail, failure: SMTPFailure) -> Outcome:
        verdict = classify(failure)
        outcome = verdict.outcome
        log.info("batch %s email %s: %s (%s)", self.ledger.run_id, email.id, outcome, failure.reply)
        if outcome in STOPPING or self._account_busy(failure, outcome):
            self._stop_on_failure(failure, email.id, verdict)
        elif outcome is Outcome.PERMANENT:
            await self._write(
                lambda transaction: self.ledger.rejected(transaction, email.id, failure.code, failure.message)
            )
            if self._breaker_trips(email.id, failure):
                return Outcome.ACCOUNT
        else:
            await self._write(
                lambda transaction: self.ledger.retry_later(
                    transaction, email.id, failure.code, failure.message, self.settings, verdict.wait
                )
            )
        if outcome is not Outcome.PERMANENT:
            self.refused_in_a_row.clear()
        if closes_connection(failure) and outcome is Outcome.TRANSIENT:
            await close_quietly(self.connection)
            self.connection = None
        return outcome

    @staticmethod
    def _account_busy(failure: SMTPFailure, outcome: Outcome) -> bool:
        """A temporary refusal before any recipient was named is the account's passing problem, not the
        email's: it goes back untouched and the account is tried again after a while."""
        return (
            outcome is Outcome.TRANSIENT and is_temporary(failure) and failure.stage not in RECIPIENT_STAGES
        )

    def _breaker_trips(self, email_id: int, failure: SMTPFailure) -> bool:
        """The circuit breaker: when `BREAKER_THRESHOLD` recipients in a row get the same refusal that
        does not name their mailbox, the refusal is the account's. Those recipients go back to `pending`
        untouched and the account is held until the user looks."""
        signature = refusal_signature(failure)
        if signature is None or signature != self.last_refusal:
            self.refused_in_a_row.clear()
        self.last_refusal = signature
        if signature is None:
            return False
        self.refused_in_a_row.append(email_id)
        if len(self.refused_in_a_row) < BREAKER_THRESHOLD:
            return False
        refused, message = (
            list(self.refused_in_a_row),
            breaker_message(len(self.refused_in_a_row), failure.reply),
        )

        def hold(transaction: Transaction) -> None:
            self.ledger.unfail(transaction, refused)
            self.ledger.account_failed(transaction, message, holds=True)

        self.deferred.append(hold)
        self.report.stopped_by = f"account: {message}"
        return True

    def _stop_on_failure(self, failure: SMTPFailure, email_id: int | None, verdict: Verdict) -> None:
        """A rate limit or an account problem: nothing counts as an attempt and the batch stops. Written
        with the batch's end, in one transaction: the account is never seen cooling down (or failing)
        while the rest of its batch is still claimed. A refusal only the user can solve holds the account;
        a network failure or a temporary one is tried again after a while."""
        if verdict.outcome is Outcome.RATE_LIMIT:
            cooldown = timedelta(seconds=verdict.wait or self.settings.rate_limit_retry)
            reason = cooldown_reason(failure, verdict)
            self.deferred.append(
                lambda transaction: self.ledger.rate_limited(
                    transaction,
                    email_id,
                    failure.code,
                    failure.message,
                    cooldown,
                    daily=verdict.daily,
                    pause_reason=reason,
                )
            )
            self.report.stopped_by = f"rate limit: {failure.reply}"
            return
        message = account_error_message(failure)
        holds = is_permanent(failure)
        self.deferred.append(
            lambda transaction: self.ledger.account_failed(transaction, message, email_id, holds=holds)
        )
        self.report.stopped_by = f"account: {message}"

    # ----- writing -----------------------------------------------------------------------------------

    async def _write(self, write: Callable[[Transaction], T]) -> T:
        """Run `write` after any unrecorded send and deferred writes, in one transaction."""
        deferred, self.deferred = self.deferred, []
        sent, self.unrecorded = self.unrecorded, None

        def transaction(transaction: Transaction) -> T:
            if sent is not None:
                self.ledger.sent(transaction, sent)
            for earlier in deferred:
                earlier(transaction)
            return write(transaction)

        return await self.database.run(transaction)

    async def _flush(self) -> None:
        if self.deferred or self.unrecorded:
            await self._write(lambda transaction: None)


async def wait_unless(event: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `event` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
