"""Where a batch's database work runs.

A batch is a coroutine; the database driver and Jinja are not. `ThreadedDatabase` runs each short
transaction on one of a few threads, each keeping one connection for its life: a worker process uses
that many database connections whatever the number of accounts it serves, and none is held while an
account waits out its interval. `SessionDatabase` runs them in the caller's thread on a given session
(one batch run on its own, in tests and benchmarks). Messages are built elsewhere
(`app.sending.builders`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

T = TypeVar("T")


#: What a unit of database work runs in: a connection of the sender's own, or a session (the dispatcher's
#: tick, tests and benchmarks). Either commits and rolls back the same way.
Transaction = sa.Connection | Session


def connection_of(transaction: Transaction) -> sa.Connection:
    """The connection under `transaction`, for Core statements: the ORM's execute path is slower."""
    return transaction if isinstance(transaction, sa.Connection) else transaction.connection()


class Database(Protocol):
    async def run(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in a transaction of its own and commit it (roll back if it raises)."""
        ...


def _in_transaction(transaction: Transaction, work: Callable[[Transaction], T]) -> T:
    try:
        result = work(transaction)
        transaction.commit()
    except BaseException:
        transaction.rollback()
        raise
    return result


class SessionDatabase:
    """Each transaction in the calling thread, on `session`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def run(self, work: Callable[[Transaction], T]) -> T:
        return _in_transaction(self.session, work)


class ThreadedDatabase:
    """Each transaction on one of `threads` threads, each with one connection of its own: Core
    statements on a bare connection, no ORM session in the way."""

    def __init__(self, engine: sa.Engine, threads: int) -> None:
        self.engine = engine
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="sender-db")
        self.local = threading.local()
        self.connections: list[sa.Connection] = []

    async def run(self, work: Callable[[Transaction], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._run, work)

    def _run(self, work: Callable[[Transaction], T]) -> T:
        connection: sa.Connection | None = getattr(self.local, "connection", None)
        if connection is None:
            # One connection per thread, kept: checked out again for every transaction, it would be
            # pinged (`pool_pre_ping`) each time, a round trip per email for nothing.
            connection = self.local.connection = self.engine.connect()
            self.connections.append(connection)
        try:
            return _in_transaction(connection, work)
        except sa.exc.DBAPIError as error:
            if error.connection_invalidated:
                self._forget(connection)
            raise

    def _forget(self, connection: sa.Connection) -> None:
        """Drop a connection the database has closed; the next transaction opens a new one."""
        self.connections.remove(connection)
        connection.close()
        self.local.connection = None

    def close(self) -> None:
        """Wait for the transactions under way, then close every connection."""
        self.executor.shutdown(wait=True)
        for connection in self.connections:
            connection.close()
        self.connections.clear()
