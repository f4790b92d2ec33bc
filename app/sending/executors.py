"""Where a batch's database work runs.

A batch is a coroutine; the database driver and Jinja are not. `ThreadedDatabase` runs the short
transactions on a few threads, each keeping one connection for its life, and runs the work of many
accounts that arrives at once in one transaction: a worker process uses that many database
connections whatever the number of accounts it serves, and none is held while an account waits out its
interval. `SessionDatabase` runs them in the caller's thread on a given session
(one batch run on its own, in tests and benchmarks). Messages are built elsewhere
(`app.sending.builders`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.sending.async_postgres import AsyncPostgres
from app.sending.driver_statements import DriverStatement

T = TypeVar("T")


#: What a unit of database work runs in: a connection of the sender's own, or a session (the dispatcher's
#: tick, tests and benchmarks). Either commits and rolls back the same way.
Transaction = sa.Connection | Session


def connection_of(transaction: Transaction) -> sa.Connection:
    """The connection under `transaction`, for Core statements: the ORM's execute path is slower."""
    return transaction if isinstance(transaction, sa.Connection) else transaction.connection()


class Database(Protocol):
    #: The database's dialect (`sa.Dialect.name`): which statements it has.
    dialect: str

    async def run(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in a transaction of its own and commit it (roll back if it raises)."""
        ...

    async def run_alone(self, statement: DriverStatement, params: Mapping[str, Any]) -> int:
        """Run `statement` with `params`, committed on its own; the rows it changed."""
        ...


def _statement_work(statement: DriverStatement, params: Mapping[str, Any]) -> Callable[[Transaction], int]:
    return lambda transaction: statement.run(connection_of(transaction), params)


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
        self.dialect = session.get_bind().dialect.name

    async def run(self, work: Callable[[Transaction], T]) -> T:
        return _in_transaction(self.session, work)

    async def run_alone(self, statement: DriverStatement, params: Mapping[str, Any]) -> int:
        return await self.run(_statement_work(statement, params))


#: The asynchronous connections of a `ThreadedDatabase` on PostgreSQL, beside its threads' own.
STATEMENT_CONNECTIONS = 2
#: The most units of work one transaction carries: enough that a thousand accounts starting at once cost
#: a few dozen commits, few enough that one transaction stays short.
GROUP_LIMIT = 200


@dataclass
class _Unit:
    work: Callable[[Transaction], Any]
    future: asyncio.Future[Any]


#: A unit, and what its work returned or raised.
Outcome = tuple[_Unit, Any, Exception | None]


class ThreadedDatabase:
    """Transactions on `threads` threads, each with one connection of its own: Core statements on a
    bare connection, no ORM session in the way.

    Units of work that arrive while every thread is busy run together: the next free thread takes all
    of them (up to `GROUP_LIMIT`) in one transaction, and each caller's `run` returns once that
    transaction has committed (group commit). A thousand accounts writing at once then cost a few dozen
    commits and thread hops, not a thousand. If one unit raises, the transaction is rolled back and
    every unit runs again in one of its own, so one unit's error is only its own. A unit therefore
    never commits itself.

    A single statement committed on its own (`run_alone`) skips the threads on PostgreSQL: the loop runs
    it on one of `STATEMENT_CONNECTIONS` asynchronous connections (`app.sending.async_postgres`).
    """

    def __init__(self, engine: sa.Engine, threads: int) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.statements = (
            AsyncPostgres(engine, STATEMENT_CONNECTIONS) if engine.dialect.driver == "psycopg2" else None
        )
        self.pending: deque[_Unit] = deque()
        self.ready = threading.Condition()
        self.closing = False
        self.threads = [
            threading.Thread(target=self._serve, name=f"sender-db-{index}", daemon=True)
            for index in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    async def run(self, work: Callable[[Transaction], T]) -> T:
        unit = _Unit(work, asyncio.get_running_loop().create_future())
        with self.ready:
            if self.closing:
                raise RuntimeError("the sender's database threads have stopped")
            self.pending.append(unit)
            self.ready.notify()
        return cast(T, await unit.future)

    async def run_alone(self, statement: DriverStatement, params: Mapping[str, Any]) -> int:
        if self.statements is None:
            return await self.run(_statement_work(statement, params))
        return await self.statements.execute(*statement.bound(self.engine.dialect, params))

    def _serve(self) -> None:
        connection: sa.Connection | None = None
        while True:
            with self.ready:
                while not self.pending and not self.closing:
                    self.ready.wait()
                if not self.pending:
                    break
                group = [self.pending.popleft() for _ in range(min(len(self.pending), GROUP_LIMIT))]
            try:
                if connection is None:
                    # One connection per thread, kept: checked out again for every transaction, it
                    # would be pinged (`pool_pre_ping`) each time, a round trip per email for nothing.
                    connection = self.engine.connect()
            except Exception as error:  # the database can't be reached: every caller hears it
                failed: list[Outcome] = [(unit, None, error) for unit in group]
                group[0].future.get_loop().call_soon_threadsafe(_settle, failed)
                continue
            self._run_group(connection, group)
        if connection is not None:
            connection.close()

    def _run_group(self, connection: sa.Connection, group: list[_Unit]) -> None:
        """Run `group` in one transaction, or each unit in one of its own if one raises, then settle
        every caller's future at once. A connection the database closed reconnects on its next use."""
        results = self._together(connection, group) if len(group) > 1 else None
        if results is None:
            results = []
            for unit in group:
                try:
                    results.append((unit, _in_transaction(connection, unit.work), None))
                except Exception as error:  # the unit's own error, for its caller
                    results.append((unit, None, error))
        group[0].future.get_loop().call_soon_threadsafe(_settle, results)

    @staticmethod
    def _together(connection: sa.Connection, group: list[_Unit]) -> list[Outcome] | None:
        """Every unit in one transaction; None, all rolled back, if any of them raised."""
        try:
            results: list[Outcome] = [(unit, unit.work(connection), None) for unit in group]
            connection.commit()
        except Exception:
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.rollback()
            return None
        return results

    def close(self) -> None:
        """Let the threads finish the work under way and queued, then close every connection."""
        with self.ready:
            self.closing = True
            self.ready.notify_all()
        for thread in self.threads:
            thread.join()
        if self.statements is not None:
            self.statements.close()


def _settle(results: list[Outcome]) -> None:
    for unit, result, error in results:
        if unit.future.done():  # its caller was cancelled
            continue
        if error is None:
            unit.future.set_result(result)
        else:
            unit.future.set_exception(error)
