"""A `limits` storage in the app's own database, for installations without Redis.

`limits` (Flask-Limiter's library) counts in memory, Redis, Memcached or MongoDB. Memory is per process:
behind `gunicorn -w 4` each worker would count alone. The embedded default's SQLite file, like any
PostgreSQL, is shared by every web process, so the counters live there, one row per budget and window.

Each increment is one `INSERT … ON CONFLICT DO UPDATE … RETURNING`, committed at once: PostgreSQL locks
the row and SQLite takes its write lock (`BEGIN IMMEDIATE`, app.database), so concurrent attempts each see
a distinct count. It runs in the request's own session: SQLite has one writer, and the request's
connection may already hold the lock, which a second connection would wait for in vain. So a request
spends its attempt before it changes anything of its own, which that commit would carry.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import scoped_session

from app.database import changed_rows
from app.models import ThrottleCounter

#: Ended windows are deleted at most this often (seconds) by each process.
PRUNE_EVERY = 60.0

_INSERTS: dict[str, Callable[[sa.Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


class DatabaseStorage(Storage):
    """Fixed-window counters in the `throttle_counter` table."""

    STORAGE_SCHEME = None  # built by app.throttle around the app's engine, not from a URI

    def __init__(self, session: scoped_session) -> None:
        super().__init__()
        self.session = session
        self.table = ThrottleCounter.__table__
        self._pruned_at = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        columns = self.table.c
        insert = _INSERTS[self.session.get_bind().dialect.name](self.table).values(
            key=key, count=amount, expires_at=now + expiry
        )
        ended = columns.expires_at <= now
        upsert = insert.on_conflict_do_update(
            index_elements=[columns.key],
            set_={
                "count": sa.case((ended, insert.excluded.count), else_=columns.count + insert.excluded.count),
                "expires_at": sa.case((ended, insert.excluded.expires_at), else_=columns.expires_at),
            },
        ).returning(columns.count)
        count = self.session.execute(upsert).scalar_one()
        self.session.commit()
        self._prune(now)
        return count

    def get(self, key: str) -> int:
        return self.session.scalar(self._current(key, self.table.c.count)) or 0

    def get_expiry(self, key: str) -> float:
        return self.session.scalar(self._current(key, self.table.c.expires_at)) or time.time()

    def check(self) -> bool:
        try:
            self.session.execute(sa.select(sa.literal(1)))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        deleted = changed_rows(self.session.execute(sa.delete(self.table)))
        self.session.commit()
        return deleted

    def clear(self, key: str) -> None:
        self.session.execute(sa.delete(self.table).where(self.table.c.key == key))
        self.session.commit()

    def _current(self, key: str, column: sa.Column) -> sa.Select:
        return sa.select(column).where(self.table.c.key == key, self.table.c.expires_at > time.time())

    def _prune(self, now: float) -> None:
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        self.session.execute(sa.delete(self.table).where(self.table.c.expires_at <= now))
        self.session.commit()
