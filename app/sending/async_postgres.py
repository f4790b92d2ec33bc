"""Single statements on PostgreSQL run by the sender's event loop itself, each committed on its own.

The per-email statement (`outcomes.SENT_THEN_START`) is the send path's one commit an email. Run on a
database thread it cost three round trips (psycopg2's BEGIN, the statement, COMMIT), a hop to the thread
and back, and the thread's fight with the loop for the interpreter lock, while the email's message waited
for it. Here it is one round trip on a connection in psycopg2's asynchronous mode (autocommit: the
statement is its own transaction), the loop watching the socket as it does the SMTP servers'. Each
statement is prepared once per connection (`PREPARE`, then `EXECUTE`): planning it was half of
PostgreSQL's time on it (0.27 ms of 0.55, `EXPLAIN ANALYZE`). Measured in docs/benchmarks.md.

A few connections (`size`), opened when first needed and kept; a statement waits for a free one. A
connection that failed, or whose statement was interrupted, is closed, not reused: its state is unknown.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions
import sqlalchemy as sa
from psycopg2.extensions import connection as Connection

from app.sending.driver_statements import DriverParameters


@dataclass(frozen=True)
class _Prepared:
    """A statement's prepared form: `PREPARE`d once per connection under `name`, then `EXECUTE`d with
    its values in `order`."""

    name: str
    prepare: str
    execute: str
    order: tuple[str, ...]


@dataclass
class _Session:
    connection: Connection
    prepared: set[str] = field(default_factory=set)


class AsyncPostgres:
    """Up to `size` asynchronous connections to the database of `engine` (psycopg2)."""

    def __init__(self, engine: sa.Engine, size: int) -> None:
        self.connect_args = engine.dialect.create_connect_args(engine.url)
        self.size = size
        self.idle: list[_Session] = []
        self.forms: dict[str, _Prepared] = {}
        self._slots: asyncio.Semaphore | None = None

    async def execute(self, sql: str, values: DriverParameters) -> int:
        """Run one statement (psycopg2's named `%(name)s` parameters), committed when this returns; the
        rows it changed."""
        assert isinstance(values, Mapping), "psycopg2's paramstyle is pyformat"
        form = self.forms.get(sql) or self._prepared_form(sql)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        async with self._slots:
            session = self.idle.pop() if self.idle else await self._connect()
            try:
                if form.name not in session.prepared:
                    await _run(session.connection, form.prepare)
                    session.prepared.add(form.name)
                count = await _run(session.connection, form.execute, [values[name] for name in form.order])
            except BaseException:
                session.connection.close()
                raise
            self.idle.append(session)
            return count

    def _prepared_form(self, sql: str) -> _Prepared:
        order: list[str] = []

        def numbered(match: re.Match[str]) -> str:
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        name = f"engine_{len(self.forms)}"
        body = _PARAMETER.sub(numbered, sql).replace("%%", "%")
        execute = f"EXECUTE {name} ({', '.join('%s' for _ in order)})" if order else f"EXECUTE {name}"
        form = self.forms[sql] = _Prepared(name, f"PREPARE {name} AS {body}", execute, tuple(order))
        return form

    async def _connect(self) -> _Session:
        args, kwargs = self.connect_args
        connection = psycopg2.connect(*args, **kwargs, async_=True)
        try:
            await _ready(connection)
        except BaseException:
            connection.close()
            raise
        return _Session(connection)

    def close(self) -> None:
        while self.idle:
            self.idle.pop().connection.close()


#: A named parameter in psycopg2's paramstyle.
_PARAMETER = re.compile(r"%\((\w+)\)s")


async def _run(connection: Connection, sql: str, values: Sequence[Any] | None = None) -> int:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, values)
        await _ready(connection)
        return int(cursor.rowcount)
    finally:
        cursor.close()


async def _ready(connection: Connection) -> None:
    """Wait until `connection`'s connect or statement is done (psycopg2's `poll` loop); its error raised."""
    loop = asyncio.get_running_loop()
    fd = connection.fileno()
    while True:
        state = connection.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        if state == psycopg2.extensions.POLL_READ:
            watch, unwatch = loop.add_reader, loop.remove_reader
        else:
            watch, unwatch = loop.add_writer, loop.remove_writer
        ready = loop.create_future()
        watch(fd, _wake, ready)
        try:
            await ready
        finally:
            unwatch(fd)


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)
