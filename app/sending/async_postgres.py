"""Single statements on PostgreSQL run by the sender's event loop itself, each committed on its own.

The per-email statement (`outcomes.SENT_THEN_START`) is the send path's one commit an email. Run on a
database thread it cost three round trips (psycopg2's BEGIN, the statement, COMMIT), a hop to the thread
and back, and the thread's fight with the loop for the interpreter lock, while the email's message waited
for it. Here it is one round trip on a connection in psycopg2's asynchronous mode (autocommit: the
statement is its own transaction), the loop watching the socket as it does the SMTP servers'. Measured
with `make bench-send` (docs/benchmarks.md): the wait for the commit before a message's final "." fell
from 0.42 ms an email to 0.11 ms, and the worker's CPU by a fifth.

A few connections (`size`), opened when first needed and kept; a statement waits for a free one. A
connection that failed, or whose statement was interrupted, is closed, not reused: its state is unknown.
"""

from __future__ import annotations

import asyncio

import psycopg2
import psycopg2.extensions
import sqlalchemy as sa
from psycopg2.extensions import connection as Connection

from app.sending.driver_statements import DriverParameters


class AsyncPostgres:
    """Up to `size` asynchronous connections to the database of `engine` (psycopg2)."""

    def __init__(self, engine: sa.Engine, size: int) -> None:
        self.dialect = engine.dialect
        self.connect_args = engine.dialect.create_connect_args(engine.url)
        self.size = size
        self.idle: list[Connection] = []
        self._slots: asyncio.Semaphore | None = None

    async def execute(self, sql: str, values: DriverParameters) -> int:
        """Run one statement, committed when this returns; the rows it changed."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        async with self._slots:
            connection = self.idle.pop() if self.idle else await self._connect()
            try:
                cursor = connection.cursor()
                cursor.execute(sql, values)
                await _ready(connection)
                count = int(cursor.rowcount)
                cursor.close()
            except BaseException:
                connection.close()
                raise
            self.idle.append(connection)
            return count

    async def _connect(self) -> Connection:
        args, kwargs = self.connect_args
        connection = psycopg2.connect(*args, **kwargs, async_=True)
        try:
            await _ready(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


async def _ready(connection: Connection) -> None:
    """Wait until `connection`'s connect or statement is done (psycopg2's `poll` loop); its error raised."""
    loop = asyncio.get_running_loop()
    fd = connection.fileno()
    while True:
        state = connection.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        ready = loop.create_future()
        if state == psycopg2.extensions.POLL_READ:
            loop.add_reader(fd, _wake, ready)
            try:
                await ready
            finally:
                loop.remove_reader(fd)
        else:
            loop.add_writer(fd, _wake, ready)
            try:
                await ready
            finally:
                loop.remove_writer(fd)


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)
