"""The sender of one worker process: every batch handed to it, run at once on one asyncio loop.

Each account's batches run as one coroutine (`_serve`), paced by the account's own interval; a process
serves any number of accounts with one thread for the loop, `SENDER_DB_CONNECTIONS` threads (and as
many database connections) for their short transactions, on PostgreSQL `STATEMENT_CONNECTIONS` more
for the per-email statement (`app.sending.executors`), and `SENDER_BUILD_THREADS` threads to build
messages, beside two processes for campaigns new or slow to render (`app.sending.builders`). When a
batch ends and its account still has due mail, the account's next batch is claimed in the transaction
that ends the last one and started right here, without a round trip through the broker (a broker outage
does not stall it).

The claims it holds stay alive through one heartbeat for all of them, every quarter `CLAIM_LEASE`
(`app.sending.heartbeat`); a process that dies stops beating, and the dispatcher frees its accounts once
the lease has passed. `stop()` (a worker's warm shutdown) lets every account finish the email in
flight, return the rest of its batch and free itself, then ends the loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from app.sending.batch import BatchSender, wait_unless
from app.sending.builders import LaneBuilder
from app.sending.dispatcher import Handoff, claim_batches, release_claim
from app.sending.executors import ThreadedDatabase
from app.sending.heartbeat import Heartbeat
from app.sending.settings import EngineSettings

log = logging.getLogger(__name__)


class SenderService:
    def __init__(
        self,
        settings: EngineSettings,
        engine: sa.Engine,
        decrypt: Callable[[bytes], str],
        db_connections: int,
        build_threads: int,
    ) -> None:
        self.settings = settings
        self.decrypt = decrypt
        self.database = ThreadedDatabase(engine, db_connections)
        self.builder = LaneBuilder(build_threads)
        self.builder.warm_up()
        self.loop = asyncio.new_event_loop()
        self.stopping = asyncio.Event()
        #: Per account served: the ids its claim may carry now (the ticket, then the run's own id).
        self.claims: dict[int, tuple[str, ...]] = {}
        self.serving: set[asyncio.Task[None]] = set()
        self.thread = threading.Thread(target=self._loop, name="sender", daemon=True)
        self.thread.start()
        self.heartbeat = Heartbeat(engine, settings.claim_lease / 4, self._claim_ids)

    # ----- called from other threads -----------------------------------------------------------------

    def submit(self, handoffs: Iterable[Handoff]) -> None:
        """Start sending these batches (thread-safe; returns at once)."""
        handoffs = list(handoffs)
        self.loop.call_soon_threadsafe(self._start, handoffs)

    def stop(self, timeout: float) -> None:
        """Let every account finish its email in flight and give back the rest; wait up to `timeout`."""
        if not self.thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._drain(), self.loop)
        try:
            future.result(timeout)
        except TimeoutError:
            log.warning(
                "sender: %d accounts still sending after %.0f s; their claims will expire",
                len(self.claims),
                timeout,
            )
        self.heartbeat.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.database.close()
        self.builder.close()
        if not self.thread.is_alive():
            self.loop.close()

    def _claim_ids(self) -> list[str]:
        """Every id the claims this process holds may carry now (read by the heartbeat's thread)."""
        return [claim_id for claim in list(self.claims.values()) for claim_id in claim]

    # ----- on the loop -------------------------------------------------------------------------------

    def _loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _start(self, handoffs: list[Handoff]) -> None:
        for handoff in handoffs:
            if handoff.account_id in self.claims:
                continue  # a duplicate delivery of a batch this process already runs
            self.claims[handoff.account_id] = (handoff.ticket,)
            task = self.loop.create_task(self._serve(handoff))
            self.serving.add(task)
            task.add_done_callback(self.serving.discard)

    async def _serve(self, handoff: Handoff) -> None:
        """Run the account's batch, then its next ones while it has due mail and nothing stopped it."""
        account_id, ticket = handoff.account_id, handoff.ticket
        try:
            if handoff.delay > 0:
                await wait_unless(self.stopping, handoff.delay)
            if self.stopping.is_set():
                await self.database.run(lambda transaction: release_claim(transaction, ticket, account_id))
                return
            taken = None
            while True:
                sender = BatchSender(
                    self.database,
                    self.settings,
                    ticket,
                    account_id,
                    self.decrypt,
                    builder=self.builder,
                    stopping=self.stopping,
                    claim_next=functools.partial(
                        claim_batches, settings=self.settings, account_ids=[account_id]
                    ),
                    taken=taken,
                )
                self.claims[account_id] = (ticket, sender.ledger.run_id)
                await sender.run()
                taken = sender.next_batch
                if taken is None:
                    return
                ticket = taken.ledger.ticket
        except Exception:
            log.exception(
                "sender: account %s stopped on an unexpected error; its claim will expire", account_id
            )
        finally:
            self.claims.pop(account_id, None)

    async def _drain(self) -> None:
        self.stopping.set()
        if self.serving:
            await asyncio.wait(list(self.serving))
