"""Counters the database keeps for the pages: each campaign's emails by status, and each user's sends
per quarter hour.

Counting emails costs ~130 ms per 500,000 on every page view; the pages read these counters instead (a
few rows). Triggers on `email` update them in the same transaction as every insert, change and delete,
whichever code makes it, so they cannot drift from the emails; `flask recount-campaigns` recomputes
them from the emails all the same, and the test suite checks after every test that they agree.

- `email_count` (campaign, status, count): the campaign pages, the list and the dashboard's totals.
- `sent_count` (user, quarter hour in UTC, count): sends today, this week and the charts. Every time
  zone's hours and midnights fall on a UTC quarter hour (India is UTC+05:30, Nepal +05:45), so any
  local hour or day is an exact sum of quarters.

On PostgreSQL the triggers are per statement, with transition tables: scheduling a million emails is
one aggregate and one upsert per status, not a million row updates. Counter rows are changed in key
order, so two statements never wait on each other's rows in opposite orders, and an update that
changes no status (a claim refresh) changes no counter. Counts of a campaign or a user being deleted
are skipped (their rows go with them). SQLite has only row triggers, which is fine at its scale.

The migration that installs the triggers runs `install_triggers` and `recount`: changing the SQL below
needs a migration that runs them again.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.states import DELIVERED

#: `DELIVERED` as the triggers' SQL list: the sends of a quarter hour count every email that went out.
DELIVERED_SQL = "(" + ", ".join(f"'{status}'" for status in DELIVERED) + ")"

#: The start of the UTC quarter hour of `{0}` (a timestamp column), per dialect. SQLite stores
#: timestamps as SQLAlchemy writes them, 'YYYY-MM-DD HH:MM:SS.ffffff'.
QUARTER = {
    "postgresql": "date_trunc('hour', {0}) + floor(extract(minute FROM {0}) / 15) * interval '15 minutes'",
    "sqlite": "substr({0}, 1, 14) || printf('%02d', CAST(substr({0}, 15, 2) AS INTEGER) / 15 * 15)"
    " || ':00.000000'",
}

#: Adds the (signed) `change` of each row of `changes` to both counters. Sums of zero are left out.
_POSTGRESQL_APPLY = """
    WITH changes AS ({changes}),
    by_status AS (
        INSERT INTO email_count (campaign_id, status, count)
        SELECT campaign_id, status, sum(change) FROM changes
        WHERE EXISTS (SELECT 1 FROM campaign WHERE campaign.id = changes.campaign_id)
        GROUP BY 1, 2 HAVING sum(change) <> 0 ORDER BY 1, 2
        ON CONFLICT (campaign_id, status) DO UPDATE SET count = email_count.count + excluded.count
    )
    INSERT INTO sent_count (user_id, starts_at, count)
    SELECT user_id, {quarter}, sum(change) FROM changes
    WHERE status IN {delivered} AND sent_at IS NOT NULL
      AND EXISTS (SELECT 1 FROM "user" WHERE "user".id = changes.user_id)
    GROUP BY 1, 2 HAVING sum(change) <> 0 ORDER BY 1, 2
    ON CONFLICT (user_id, starts_at) DO UPDATE SET count = sent_count.count + excluded.count;
"""
_ADDED = "SELECT campaign_id, status, user_id, sent_at, 1 AS change FROM new_rows"
_REMOVED = "SELECT campaign_id, status, user_id, sent_at, -1 AS change FROM old_rows"
_POSTGRESQL_CHANGES = {"INSERT": _ADDED, "UPDATE": f"{_ADDED} UNION ALL {_REMOVED}", "DELETE": _REMOVED}

POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION email_count_follow() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
    + "\n".join(
        f"{'IF' if index == 0 else 'ELSIF'} TG_OP = '{operation}' THEN"
        + _POSTGRESQL_APPLY.format(
            changes=changes, quarter=QUARTER["postgresql"].format("sent_at"), delivered=DELIVERED_SQL
        )
        for index, (operation, changes) in enumerate(_POSTGRESQL_CHANGES.items())
    )
    + "\nEND IF;\nRETURN NULL;\nEND\n$$"
)

_TRANSITION_TABLES = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}
POSTGRESQL_TRIGGERS = [
    statement
    for operation, tables in _TRANSITION_TABLES.items()
    for statement in (
        f"DROP TRIGGER IF EXISTS email_count_{operation.lower()} ON email",
        f"CREATE TRIGGER email_count_{operation.lower()} AFTER {operation} ON email REFERENCING {tables}"
        " FOR EACH STATEMENT EXECUTE FUNCTION email_count_follow()",
    )
]


def _sqlite_add(row: str) -> str:
    return f"""
        INSERT INTO email_count (campaign_id, status, count) VALUES ({row}.campaign_id, {row}.status, 1)
        ON CONFLICT (campaign_id, status) DO UPDATE SET count = count + 1;
        INSERT INTO sent_count (user_id, starts_at, count)
        SELECT {row}.user_id, {QUARTER["sqlite"].format(f"{row}.sent_at")}, 1
        WHERE {row}.status IN {DELIVERED_SQL} AND {row}.sent_at IS NOT NULL
        ON CONFLICT (user_id, starts_at) DO UPDATE SET count = count + 1;
    """


def _sqlite_remove(row: str) -> str:
    return f"""
        UPDATE email_count SET count = count - 1
        WHERE campaign_id = {row}.campaign_id AND status = {row}.status;
        UPDATE sent_count SET count = count - 1
        WHERE {row}.status IN {DELIVERED_SQL} AND user_id = {row}.user_id
          AND starts_at = {QUARTER["sqlite"].format(f"{row}.sent_at")};
    """


_COUNTED_COLUMNS = ("campaign_id", "status", "user_id", "sent_at")
SQLITE_TRIGGERS = [
    "DROP TRIGGER IF EXISTS email_count_insert",
    f"CREATE TRIGGER email_count_insert AFTER INSERT ON email BEGIN {_sqlite_add('NEW')} END",
    "DROP TRIGGER IF EXISTS email_count_update",
    f"CREATE TRIGGER email_count_update AFTER UPDATE OF {', '.join(_COUNTED_COLUMNS)} ON email WHEN "
    + " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in _COUNTED_COLUMNS)
    + f" BEGIN {_sqlite_remove('OLD')} {_sqlite_add('NEW')} END",
    "DROP TRIGGER IF EXISTS email_count_delete",
    f"CREATE TRIGGER email_count_delete AFTER DELETE ON email BEGIN {_sqlite_remove('OLD')} END",
]


def install_triggers(connection: sa.Connection) -> None:
    """Create (or replace) the triggers that keep `email_count` and `sent_count` in step with `email`."""
    if connection.dialect.name == "postgresql":
        statements = [POSTGRESQL_FUNCTION, *POSTGRESQL_TRIGGERS]
    else:
        statements = SQLITE_TRIGGERS
    for statement in statements:
        connection.exec_driver_sql(statement)


@dataclass(frozen=True)
class CounterTable:
    """One counter table: its name, its key columns, and how to count its values from the emails."""

    table: str
    keys: tuple[str, str]
    #: A counter's name for a person, from its two key values.
    label: str
    #: SELECT the key columns and count(*) from `email`, grouped; `{quarter}` is the dialect's QUARTER.
    counted: str

    def counted_sql(self, dialect: str) -> str:
        return self.counted.format(quarter=QUARTER[dialect].format("sent_at"))


COUNTERS = (
    CounterTable(
        "email_count",
        ("campaign_id", "status"),
        "campaign {0}, {1}",
        "SELECT campaign_id, status, count(*) AS count FROM email GROUP BY campaign_id, status",
    ),
    CounterTable(
        "sent_count",
        ("user_id", "starts_at"),
        "user {0}, sent in the quarter hour from {1} UTC",
        "SELECT user_id, {quarter} AS starts_at, count(*) AS count FROM email"
        f" WHERE status IN {DELIVERED_SQL} AND sent_at IS NOT NULL GROUP BY 1, 2",
    ),
)


@dataclass(frozen=True)
class Difference:
    """A counter that differs from what the emails say."""

    counter: str
    counted: int
    stored: int


def disagreements(connection: sa.Connection) -> list[Difference]:
    """Every counter that differs from a count of the emails (a missing counter counts as 0)."""
    found = []
    for counter in COUNTERS:
        first, second = counter.keys
        rows = connection.exec_driver_sql(
            f"""
            SELECT coalesce(counted.{first}, stored.{first}), coalesce(counted.{second}, stored.{second}),
                   coalesce(counted.count, 0), coalesce(stored.count, 0)
            FROM ({counter.counted_sql(connection.dialect.name)}) AS counted
            FULL OUTER JOIN (SELECT * FROM {counter.table} WHERE count <> 0) AS stored
                 ON stored.{first} = counted.{first} AND stored.{second} = counted.{second}
            WHERE coalesce(counted.count, 0) <> coalesce(stored.count, 0)
            ORDER BY 1, 2
            """
        )
        found += [Difference(counter.label.format(a, b), counted, stored) for a, b, counted, stored in rows]
    return found


def recount(connection: sa.Connection) -> list[Difference]:
    """Recompute the counters from the emails if any differ; returns the differences it found.

    On PostgreSQL the emails are locked against writes (reads go on) until the caller commits, so no
    change can land between the count and its storing.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE email IN SHARE MODE")
    found = disagreements(connection)
    if found:
        for counter in COUNTERS:
            connection.exec_driver_sql(f"DELETE FROM {counter.table}")
            connection.exec_driver_sql(
                f"INSERT INTO {counter.table} ({', '.join(counter.keys)}, count)"
                f" {counter.counted_sql(connection.dialect.name)}"
            )
    return found
