"""A worker's heartbeat: one statement every quarter lease keeps all the claims it holds alive.

It runs on a thread and a database connection of its own, not on the sender's loop or its database
threads: when a thousand accounts' writes queue up there, or the loop is busy building messages, the
beat must still go out on time, or the dispatcher would take a living worker's batches for a dead one's
and a second copy of the emails in flight would go out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

from app import clock
from app.models import SMTPSettings

log = logging.getLogger(__name__)

#: How many claims one statement names.
CHUNK = 500


class Heartbeat:
    def __init__(self, engine: sa.Engine, every: float, claim_ids: Callable[[], list[str]]) -> None:
        self.engine = engine
        self.every = every
        self.claim_ids = claim_ids
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sender-heartbeat", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        connection: sa.Connection | None = None
        while not self.stopped.wait(self.every):
            try:
                connection = connection or self.engine.connect()
                self.beat(connection)
            except sa.exc.SQLAlchemyError:
                log.exception("sender: heartbeat failed; trying again")
                if connection is not None:
                    connection.invalidate()
                    connection.close()
                connection = None
        if connection is not None:
            connection.close()

    def beat(self, connection: sa.Connection) -> None:
        ids = self.claim_ids()
        now = clock.utcnow()
        for start in range(0, len(ids), CHUNK):
            connection.execute(
                sa.update(SMTPSettings)
                .where(SMTPSettings.batch_id.in_(ids[start : start + CHUNK]))
                .values(batch_heartbeat_at=now)
            )
            connection.commit()
