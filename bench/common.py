"""What both engine benchmarks share: their own database, migrated; seed data; the settings they run with.

Each benchmark drops and recreates a database of its own on the server named by `BENCH_DATABASE_URL`
(default `postgresql://postgres@127.0.0.1:5432/test`; only its server and credentials are used) and
brings it to the current schema with the app's migrations. Brokers go to `BENCH_REDIS_URL` (default
`redis://127.0.0.1:6379/14`), a database of Redis that a benchmark may empty.

Emails are loaded with one `INSERT ... SELECT generate_series` (a million rows in seconds, where the ORM
would take minutes), then `VACUUM ANALYZE`, since autovacuum may be off and the figures would drift.
"""

from __future__ import annotations

import os
import platform
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import flask_migrate
import redis
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app import clock, create_app
from app.extensions import db
from app.models import Campaign, SMTPSettings, User
from app.states import CampaignStatus
from config import celery_settings, normalise_database_url

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"

#: Every deliberate pause of the engine, off: the benchmarks measure its overhead, not its manners.
NO_PAUSES: dict[str, float] = {"SEND_INTERVAL": 0.0, "CONNECTION_SETTLE": 0.0, "DISPATCH_SPACING": 0.0}

#: The engine settings a benchmark prints with its figures.
SHOWN_SETTINGS = (
    "BATCH_SIZE",
    "SEND_INTERVAL",
    "CONNECTION_SETTLE",
    "DISPATCH_SPACING",
    "DISPATCH_INTERVAL",
    "RECONNECT_EVERY",
    "CLAIM_LEASE",
)


def database_server_url() -> str:
    return normalise_database_url(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL)


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL


def recreate_database(name: str, template: str = "") -> str:
    """Drop and create database `name` on the benchmark server (a copy of `template`, if given, which
    no one may be connected to); return its URL."""
    server = sa.make_url(database_server_url())
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    finally:
        engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Bench:
    """A benchmark's app (its context pushed), database, broker and scratch folder."""

    app: Flask
    database_url: str
    redis_url: str
    folder: Path
    settings: Mapping[str, float]

    def process_env(self) -> dict[str, str]:
        """The environment a worker needs to run against this benchmark's database and broker."""
        return {
            "APP_ENV": "development",
            "SMTP_ALLOW_PRIVATE_HOSTS": "1",  # the sinks listen on loopback
            "INSTANCE_PATH": str(self.folder),
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.redis_url,
            "SECRET_KEY": self.app.config["SECRET_KEY"],
            "SMTP_ENCRYPTION_KEY": self.app.config["SMTP_ENCRYPTION_KEY"],
            **{name: str(value) for name, value in self.settings.items()},
        }

    def describe(self) -> str:
        """The settings in force and where the benchmark runs, for the person reading the figures."""
        shown = " ".join(f"{name}={self.app.config[name]}" for name in SHOWN_SETTINGS)
        with db.engine.connect() as connection:
            server = connection.exec_driver_sql("SHOW server_version").scalar()
        return (
            f"settings: {shown}\n"
            f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {server}, "
            f"database {sa.make_url(self.database_url).database}, broker {self.redis_url}"
        )


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def bench_app(database: str, settings: Mapping[str, float]) -> Iterator[Bench]:
    """A fresh, migrated database and the app on it with `settings`; everything undone on exit.

    SIGTERM is turned into KeyboardInterrupt, like Ctrl-C, so that the `finally` and `with` blocks of a
    benchmark stop every process it started however it is interrupted.
    """
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    database_url = recreate_database(database)
    broker = redis_url()
    redis.Redis.from_url(broker).flushdb()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{database}-")))
        lease = float(settings.get("CLAIM_LEASE", 120.0))
        app = create_app(
            "development",
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CELERY": celery_settings(broker, folder, lease),
                "SMTP_ALLOW_PRIVATE_HOSTS": True,  # the sinks listen on loopback
                **settings,
            },
        )
        stack.enter_context(app.app_context())
        stack.callback(db.engine.dispose)
        stack.callback(db.session.remove)
        flask_migrate.upgrade()
        yield Bench(app, database_url, broker, folder, settings)


def empty_tables() -> None:
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@dataclass(frozen=True)
class Seeded:
    account_ids: list[int]
    campaign_ids: list[int]


def seed(
    session: Session,
    accounts: int,
    emails: int,
    host: str,
    port: int,
    campaign: Mapping[str, Any] | None = None,
    idle_accounts: int = 0,
) -> Seeded:
    """`accounts` users, each with one SMTP account at `host:port` and one scheduled campaign, and
    `emails` pending emails dealt among them in turn, all due now; then `VACUUM ANALYZE`.

    `idle_accounts` more users have an account and nothing to send: the dispatcher must find that out
    without reading their neighbours' emails.
    """
    now = clock.utcnow() - timedelta(minutes=1)
    users = [
        User(username=f"bench{n}", email=f"bench{n}@example.com", password_hash="-")
        for n in range(accounts + idle_accounts)
    ]
    session.add_all(users)
    session.flush()
    smtp_accounts = [
        SMTPSettings(
            user_id=user.id,
            host=host,
            port=port,
            security="none",
            from_address=f"{user.username}@sender.example",
            from_name=f"Sender {user.username}",
        )
        for user in users
    ]
    session.add_all(smtp_accounts)
    session.flush()
    campaigns = [
        Campaign(
            user_id=account.user_id,
            smtp_account_id=account.id,
            name=f"Benchmark {account.id}",
            status=CampaignStatus.SCHEDULED,
            scheduled_at=now,
            **(campaign or {"subject": "Hello {{ name }}", "html_body": "<p>Dear {{ name }}</p>"}),
        )
        for account in smtp_accounts[:accounts]
    ]
    session.add_all(campaigns)
    session.flush()
    session.execute(
        sa.text(
            """
            INSERT INTO email (user_id, campaign_id, smtp_account_id, address, name, merge_data,
                               status, scheduled_at, attempts)
            SELECT (CAST(:users AS int[]))[k], (CAST(:campaigns AS int[]))[k], (CAST(:accounts AS int[]))[k],
                   'r' || lpad(i::text, 7, '0') || '@rcpt.example', 'Reader ' || i,
                   json_build_object('code', 'C' || i), 'pending', :now, 0
            FROM generate_series(0, :emails - 1) AS i, LATERAL (SELECT i % :n + 1 AS k) AS pick
            """
        ),
        {
            "users": [c.user_id for c in campaigns],
            "campaigns": [c.id for c in campaigns],
            "accounts": [c.smtp_account_id for c in campaigns],
            "now": now,
            "emails": emails,
            "n": accounts,
        },
    )
    session.commit()
    vacuum_analyze(session.get_bind())
    return Seeded([c.smtp_account_id for c in campaigns], [c.id for c in campaigns])


def vacuum_analyze(engine: sa.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def run(main: Callable[[], None]) -> None:
    """Run a benchmark's `main`; an interruption (Ctrl-C, SIGTERM) ends it, cleaned up, with code 130."""
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: everything the benchmark started has been stopped", file=sys.stderr)
        raise SystemExit(130) from None


def result_line(**figures: float) -> str:
    """The one line of `key=value` pairs a script reads (docs/benchmarks.md)."""
    return " ".join(
        f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in figures.items()
    )
