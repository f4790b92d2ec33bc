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


class Database(Protocol):
    async def run(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a transaction of its own and commit it (roll back if it raises)."""
        ...


def _in_transaction(session: Session, work: Callable[[Session], T]) -> T:
    try:
        result = work(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


class SessionDatabase:
    """Each transaction in the calling thread, on `session`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def run(self, work: Callable[[Session], T]) -> T:
        return _in_transaction(self.session, work)


class ThreadedDatabase:
    """Each transaction on one of `threads` threads, each with one connection of its own."""

    def __init__(self, engine: sa.Engine, threads: int) -> None:
        self.engine = engine
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="sender-db")
        self.local = threading.local()
        self.sessions: list[Session] = []

    async def run(self, work: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._run, work)

    def _run(self, work: Callable[[Session], T]) -> T:
        session: Session | None = getattr(self.local, "session", None)
        if session is None:
            # One connection per thread, kept: checked out again for every transaction, it would be
            # pinged (`pool_pre_ping`) each time, a round trip per email for nothing.
            session = self.local.session = Session(bind=self.engine.connect())
            self.sessions.append(session)
        try:
            return _in_transaction(session, work)
        except sa.exc.DBAPIError as error:
            if error.connection_invalidated:
                self._forget(session)
            raise

    def _forget(self, session: Session) -> None:
        """Drop a connection the database has closed; the next transaction opens a new one."""
        self.sessions.remove(session)
        _close(session)
        self.local.session = None

    def close(self) -> None:
        """Wait for the transactions under way, then close every connection."""
        self.executor.shutdown(wait=True)
        for session in self.sessions:
            _close(session)
        self.sessions.clear()


def _close(session: Session) -> None:
    connection = session.get_bind()
    session.close()
    if isinstance(connection, sa.Connection):
        connection.close()
