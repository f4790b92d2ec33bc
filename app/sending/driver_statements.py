"""The send path's per-email statements, compiled once and run on the database driver's own cursor.

Written as SQLAlchemy Core (so their columns and conditions are checked like every other query's), a
statement is compiled once per dialect into the driver's SQL and paramstyle, with its constant values
and type conversions (SQLite's timestamps) worked out then. Each run is then one `cursor.execute`:
no compile-cache lookup, no result object, no execution events, no pool — SQLAlchemy's own work on
each statement, 0.4 ms of the worker's CPU an email (docs/benchmarks.md), is left out.

Server-side preparation (`PREPARE` on PostgreSQL) was measured too and saved nothing on these
statements: their plans are a primary-key lookup, and the cost is the writes and the round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

#: What a driver's `cursor.execute` takes: values by name, or in the order of a positional paramstyle.
DriverParameters = Mapping[str, Any] | Sequence[Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: The driver's parameter order (a positional paramstyle such as SQLite's `?`), or None (named).
    order: tuple[str, ...] | None
    constants: dict[str, Any]
    processors: dict[str, Callable[[Any], Any]]


class DriverStatement:
    """One Core statement, run with the driver's cursor on a SQLAlchemy connection's own DBAPI
    connection, inside that connection's transaction (begun here if none is)."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self.compiled: dict[str, _Compiled] = {}

    def run(self, connection: sa.Connection, params: Mapping[str, Any]) -> int:
        """Execute with `params` (every named bind parameter of the statement); the rows it changed."""
        sql, values = self.bound(connection.dialect, params)
        if not connection.in_transaction():
            # SQLAlchemy's begin, so that its commit commits the driver's work (SQLite: BEGIN IMMEDIATE).
            connection.begin()
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, values)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def bound(self, dialect: sa.Dialect, params: Mapping[str, Any]) -> tuple[str, DriverParameters]:
        """The driver's SQL for `dialect` and the values to execute it with, from `params`."""
        compiled = self.compiled.get(dialect.name) or self._compile(dialect)
        values = {**compiled.constants, **params}
        for name, process in compiled.processors.items():
            values[name] = process(values[name])
        return compiled.sql, values if compiled.order is None else [values[name] for name in compiled.order]

    def _compile(self, dialect: sa.Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        named = {bind.key: bind for bind in compiled.binds.values() if bind.required}
        expanded = compiled.construct_expanded_state(dict.fromkeys(named))
        processors: dict[str, Callable[[Any], Any]] = {
            name: process
            for name, bind in named.items()
            if (process := dialect.type_descriptor(bind.type).bind_processor(dialect)) is not None
        }
        constants = {name: value for name, value in expanded.parameters.items() if name not in named}
        order = tuple(expanded.positiontup) if dialect.positional and expanded.positiontup else None
        result = self.compiled[dialect.name] = _Compiled(expanded.statement, order, constants, processors)
        return result
