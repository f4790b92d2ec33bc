"""The sender's database threads: work that arrives at once shares a transaction (group commit), and
one unit's error is only its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.sending.connection import run_sync
from app.sending.driver_statements import DriverStatement
from app.sending.executors import STATEMENT_CONNECTIONS, ThreadedDatabase, Transaction

NOTES = sa.Table("executor_notes", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))


@pytest.fixture
def notes(app) -> Iterator[sa.Engine]:
    engine = db.engine
    NOTES.create(engine)
    yield engine
    NOTES.drop(engine)


def note(number: int):
    def write(transaction: Transaction) -> int:
        transaction.execute(NOTES.insert().values(id=number))
        return number

    return write


def refused(transaction: Transaction) -> None:
    raise ValueError("this unit's own mistake")


def written(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.scalars(sa.select(NOTES.c.id)))


def run_all(database: ThreadedDatabase, works) -> list[object]:
    async def everything() -> list[object]:
        return await asyncio.gather(*(database.run(work) for work in works), return_exceptions=True)

    try:
        return run_sync(everything)
    finally:
        database.close()


def test_work_arriving_at_once_shares_few_commits(notes):
    commits: list[object] = []

    def count(connection: sa.Connection) -> None:
        commits.append(connection)

    sa.event.listen(notes, "commit", count)
    try:
        results = run_all(ThreadedDatabase(notes, threads=2), [note(n) for n in range(300)])
    finally:
        sa.event.remove(notes, "commit", count)
    assert results == list(range(300))
    assert written(notes) == list(range(300))
    assert len(commits) < 60


def test_one_units_error_is_only_its_own(notes):
    works = [note(1), refused, note(2), note(3)]
    results = run_all(ThreadedDatabase(notes, threads=1), works)
    assert results[0] == 1
    assert results[2:] == [2, 3]
    assert isinstance(results[1], ValueError)
    assert written(notes) == [1, 2, 3]


def test_a_unit_that_fails_the_commit_fails_alone(notes):
    """A duplicate key only shows at the database: its unit fails, the others are written once."""
    works = [note(1), note(2), note(2), note(3)]
    results = run_all(ThreadedDatabase(notes, threads=1), works)
    assert [r for r in results if not isinstance(r, Exception)] == [1, 2, 3]
    assert sum(isinstance(r, sa.exc.IntegrityError) for r in results) == 1
    assert written(notes) == [1, 2, 3]


INSERT_NOTE = DriverStatement(NOTES.insert().values(id=sa.bindparam("number")))


def run_alone_all(database: ThreadedDatabase, numbers: list[int]) -> list[object]:
    async def everything() -> list[object]:
        statements = (database.run_alone(INSERT_NOTE, {"number": number}) for number in numbers)
        return await asyncio.gather(*statements, return_exceptions=True)

    return run_sync(everything)


def test_a_statement_run_alone_is_committed_when_it_returns(notes):
    """The send path's one statement an email (on PostgreSQL, run by the event loop on a connection of
    its own; on SQLite, by a database thread)."""
    database = ThreadedDatabase(notes, threads=1)
    try:
        assert run_alone_all(database, [7]) == [1]
        assert written(notes) == [7]
    finally:
        database.close()


def test_a_statement_run_alone_that_fails_fails_alone(notes):
    """Its error reaches its caller, and the statements after it run (on a fresh connection where the
    failed one's state is unknown)."""
    database = ThreadedDatabase(notes, threads=1)
    try:
        first, duplicate, after = (run_alone_all(database, [number])[0] for number in (1, 1, 2))
        assert (first, after) == (1, 1)
        assert isinstance(duplicate, Exception)
        assert "unique" in str(duplicate).lower() or "duplicate" in str(duplicate).lower()
        assert written(notes) == [1, 2]
    finally:
        database.close()


def test_statements_run_alone_at_once_share_a_few_connections(notes):
    database = ThreadedDatabase(notes, threads=1)
    try:
        assert run_alone_all(database, list(range(100))) == [1] * 100
        assert written(notes) == list(range(100))
        if database.statements is not None:
            assert len(database.statements.idle) <= STATEMENT_CONNECTIONS
    finally:
        database.close()


def test_a_statement_run_alone_is_prepared_once_per_connection(notes):
    """On PostgreSQL, planning the per-email statement was half of its cost: it is prepared once per
    connection, then only executed."""
    database = ThreadedDatabase(notes, threads=1)
    if database.statements is None:
        pytest.skip("prepared statements are PostgreSQL's")
    try:
        assert run_alone_all(database, [1]) == [1]
        assert run_alone_all(database, [2]) == [1]
        [session] = database.statements.idle
        assert len(session.prepared) == 1
        assert written(notes) == [1, 2]
    finally:
        database.close()
