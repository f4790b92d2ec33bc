"""The schema is only ever changed through migrations, so migrating an empty database must give the models."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy.schema import CreateIndex

from app import create_app
from app.email_counts import disagreements
from app.extensions import db
from app.models import Email
from tests.services import postgres_url

#: The migration that adds the campaigns' email counters.
COUNTERS_REVISION = "b3c1d2e4f5a6"
#: The migration that tells permanent failures from temporary ones.
PERMANENT_FAILURE_REVISION = "a4f7c2d9e813"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = sa.make_url(postgres_url())
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_on_an_empty_database_match_the_models(empty_database):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    assert differences == []


def test_dispatcher_indexes_exist_after_migrating(empty_database):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        indexes = {index["name"] for index in sa.inspect(db.engine).get_indexes("email")}
        db.engine.dispose()
    assert {"ix_email_due", "ix_email_claimed", "ix_email_batch", "ix_email_account_sent"} <= indexes


#: Where each database keeps an index's definition, as it normalises it.
INDEX_DEFINITION = {
    "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = :name",
    "sqlite": "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name",
}


def test_migrated_partial_indexes_have_the_conditions_the_models_give_them(empty_database):
    """The models build their partial indexes' conditions from the status groups, the migrations spell
    them out: an index twin made from the model must read, in the database's catalogue, as the migrated one."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        partial = [
            index for index in Email.__table__.indexes if index.dialect_options["sqlite"]["where"] is not None
        ]
        query = sa.text(INDEX_DEFINITION[db.engine.dialect.name])
        with db.engine.connect() as connection:
            for index in partial:
                twin = f"twin_{index.name}"
                ddl = str(CreateIndex(index).compile(dialect=db.engine.dialect)).replace(index.name, twin, 1)
                connection.execute(sa.text(ddl))
                migrated = connection.scalar(query, {"name": index.name})
                modelled = connection.scalar(query, {"name": twin}).replace(twin, index.name, 1)
                assert modelled == migrated, index.name
            connection.rollback()
        db.engine.dispose()
    assert {index.name for index in partial} >= {"ix_email_due", "ix_email_claimed", "ix_email_user_failed"}


def test_migrating_counts_the_emails_already_there(empty_database):
    """Upgrading a database that already holds emails fills the campaigns' counters from them."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(revision=COUNTERS_REVISION + "-1")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    'INSERT INTO "user" (id, username, email, password_hash, timezone, created_at)'
                    " VALUES (1, 'u', 'u@example.com', 'x', 'UTC', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO campaign (id, user_id, name, subject, html_body, text_body, text_edited, status,"
                    " created_at, updated_at, merge_fields)"
                    " VALUES (1, 1, 'c', '', '', '', false, 'sending', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '[]')"
                )
            )
            for number, status in enumerate(["sent", "sent", "failed", "pending"]):
                connection.execute(
                    sa.text(
                        "INSERT INTO email (user_id, campaign_id, address, name, merge_data, status,"
                        " scheduled_at, attempts, sent_at)"
                        " VALUES (1, 1, :address, '', '{}', :status, CURRENT_TIMESTAMP, 0, :sent_at)"
                    ),
                    {
                        "address": f"r{number}@example.com",
                        "status": status,
                        "sent_at": datetime(2026, 11, 26, 10, 20 + number) if status == "sent" else None,
                    },
                )
        upgrade()
        with db.engine.connect() as connection:
            counters = dict(connection.execute(sa.text("SELECT status, count FROM email_count")).all())
            sends = connection.execute(sa.text("SELECT user_id, count FROM sent_count")).all()
            assert disagreements(connection) == []
        db.engine.dispose()
    assert counters == {"sent": 2, "failed": 1, "pending": 1}
    assert sends == [(1, 2)]


def test_migrating_marks_the_emails_that_already_failed_for_good(empty_database):
    """Emails failed before failures were told apart: a 5xx or an unbuildable message is permanent."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    failures = {
        "refused@example.com": ("failed", 550, "550 5.1.1 user unknown"),
        "unbuildable@example.com": ("failed", None, "The message could not be built: bad subject"),
        "busy@example.com": ("failed", 450, "Gave up after 5 attempts: 450 4.2.1 Mailbox busy"),
        "silent@example.com": ("failed", None, "Gave up after 5 attempts: Timed out waiting for the server"),
        "waiting@example.com": ("pending", 550, "550 5.1.1 user unknown"),
    }
    with app.app_context():
        upgrade(revision=PERMANENT_FAILURE_REVISION + "-1")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    'INSERT INTO "user" (id, username, email, password_hash, timezone, created_at,'
                    " session_token) VALUES (1, 'u', 'u@example.com', 'x', 'UTC', CURRENT_TIMESTAMP, 't')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO campaign (id, user_id, name, subject, html_body, text_body, text_edited, status,"
                    " created_at, updated_at, merge_fields)"
                    " VALUES (1, 1, 'c', '', '', '', false, 'completed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '[]')"
                )
            )
            for address, (status, code, message) in failures.items():
                connection.execute(
                    sa.text(
                        "INSERT INTO email (user_id, campaign_id, address, name, merge_data, status,"
                        " scheduled_at, attempts, last_smtp_code, last_smtp_message)"
                        " VALUES (1, 1, :address, '', '{}', :status, CURRENT_TIMESTAMP, 1, :code, :message)"
                    ),
                    {"address": address, "status": status, "code": code, "message": message},
                )
        upgrade()
        with db.engine.connect() as connection:
            permanent = set(
                connection.execute(sa.text("SELECT address FROM email WHERE permanent_failure")).scalars()
            )
        db.engine.dispose()
    assert permanent == {"refused@example.com", "unbuildable@example.com"}


#: The migration that brings audiences: contacts, lists and tags.
AUDIENCES_REVISION = "d81e6c3a5f27"


def test_migrating_makes_every_campaign_recipient_so_far_a_contact_of_its_user(empty_database):
    """Recipients and emails of every campaign become contacts: one per address in any case per user,
    with the newest name and merge data, and another user's same address stays theirs."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(revision=AUDIENCES_REVISION + "-1")
        with db.engine.begin() as connection:
            for user_id in (1, 2):
                connection.execute(
                    sa.text(
                        'INSERT INTO "user" (id, username, email, password_hash, timezone, created_at,'
                        " session_token) VALUES (:id, :name, :email, 'x', 'UTC', CURRENT_TIMESTAMP, 't')"
                    ),
                    {"id": user_id, "name": f"u{user_id}", "email": f"u{user_id}@example.com"},
                )
            for campaign_id, user_id in ((1, 1), (2, 1), (3, 2)):
                connection.execute(
                    sa.text(
                        "INSERT INTO campaign (id, user_id, name, subject, html_body, text_body, text_edited,"
                        " status, created_at, updated_at, merge_fields)"
                        " VALUES (:id, :user_id, 'c', '', '', '', false, 'draft', CURRENT_TIMESTAMP,"
                        " CURRENT_TIMESTAMP, '[]')"
                    ),
                    {"id": campaign_id, "user_id": user_id},
                )
            recipients = [
                (1, 1, "ada@example.com", "Ada", '{"city": "London"}'),
                (1, 1, "alan@example.com", "Alan", "{}"),
                (1, 2, "Ada@example.com", "Ada Lovelace", '{"city": "Marylebone", "plan": "gold"}'),
                (2, 3, "ada@example.com", "Ada of user 2", "{}"),
            ]
            for position, (user_id, campaign_id, address, name, data) in enumerate(recipients):
                connection.execute(
                    sa.text(
                        "INSERT INTO campaign_recipient (user_id, campaign_id, position, address, name,"
                        " merge_data) VALUES (:user_id, :campaign_id, :position, :address, :name, :data)"
                    ),
                    {
                        "user_id": user_id,
                        "campaign_id": campaign_id,
                        "position": position,
                        "address": address,
                        "name": name,
                        "data": data,
                    },
                )
            # An email whose recipient row is gone (sent before recipients were kept), and one repeating one.
            for address in ("grace@example.com", "ALAN@example.com"):
                connection.execute(
                    sa.text(
                        "INSERT INTO email (user_id, campaign_id, address, name, merge_data, status,"
                        " scheduled_at, attempts) VALUES (1, 1, :address, 'Grace', '{}', 'sent',"
                        " CURRENT_TIMESTAMP, 0)"
                    ),
                    {"address": address},
                )
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT user_id, address, name, attributes, source FROM contact ORDER BY user_id, address"
                )
            ).all()
        db.engine.dispose()
    contacts = [
        (
            user_id,
            address,
            name,
            attributes if isinstance(attributes, dict) else json.loads(attributes),
            source,
        )
        for user_id, address, name, attributes, source in rows
    ]
    assert contacts == [
        (1, "Ada@example.com", "Ada Lovelace", {"city": "Marylebone", "plan": "gold"}, "campaign"),
        (1, "alan@example.com", "Alan", {}, "campaign"),
        (1, "grace@example.com", "Grace", {}, "campaign"),
        (2, "ada@example.com", "Ada of user 2", {}, "campaign"),
    ]
