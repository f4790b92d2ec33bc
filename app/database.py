"""What the databases need beyond the tables: SQLite's tuning, PostgreSQL's extensions, one-snapshot reads.

PostgreSQL: the report's address search uses a trigram index (`pg_trgm`, a trusted extension since
PostgreSQL 13, so the database's owner may create it; migrations and `create_all` both do).

SQLite: the engine tuning that the embedded default needs to serve several processes.

The web app, the worker and beat all write to one SQLite file. WAL lets readers carry on while one
process writes; `BEGIN IMMEDIATE` takes the write lock at the start of every transaction, so two writers
queue up behind `busy_timeout` instead of one failing with "database is locked" when it upgrades a read
to a write. (SQLAlchemy's documented recipe: pysqlite's own transaction handling switched off.)
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session

SQLITE_BUSY_TIMEOUT_MS = 30_000


def changed_rows(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT ... SELECT changed: `Session.execute` is typed as
    returning any `Result`, and for these statements it is a `CursorResult`, which counts them."""
    return cast("sa.CursorResult[Any]", result).rowcount


def read_in_one_snapshot(session: Session | scoped_session[Any]) -> None:
    """Every read of `session` from here to the end of its transaction sees the database as of one
    moment. A live page's figures, status and whether to look again come from several queries: a
    campaign completing between two of them (its last email sent, in one commit) left the page at 39 of
    40 sent, or "sending" with every email sent, and no longer looking. PostgreSQL: a new transaction at
    REPEATABLE READ (the one the log-in check began is ended first); SQLite's transactions are
    snapshots already."""
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def configure_sqlite(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


POSTGRESQL_EXTENSIONS = ("pg_trgm",)


def install_extensions(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        for extension in POSTGRESQL_EXTENSIONS:
            connection.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {extension}")
