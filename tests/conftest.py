"""Fixtures shared by every test: an app on a fresh database, a client, factories and log-in helpers."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from app.email_counts import disagreements
from app.extensions import db
from app.models import User
from app.sending.settings import EngineSettings
from config import celery_settings
from tests.services import database_backends, postgres_url

pytest_plugins = [
    "tests.loopback_only",
    "tests.smtp_fixtures",
    "tests.dovecot_fixtures",
    "tests.stack",
    "tests.newcomer",
]

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
_postgres_schema_ready = False


def reset_postgres_schema() -> None:
    """Create the tables once per run, then empty them before each test."""
    global _postgres_schema_ready
    if not _postgres_schema_ready:
        db.drop_all()
        db.create_all()
        _postgres_schema_ready = True
        return
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this test run's own, so concurrent runs on one server never meet."""
    server = sa.make_url(postgres_url())
    name = f"{server.database}_run{os.getpid()}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=database_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Settings a test module may override (e.g. engine intervals)."""
    return {}


@pytest.fixture
def app(database_url: str, app_settings: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """The app on a fresh database; anything it enqueues goes to a broker folder of this test's own."""
    overrides = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CELERY": celery_settings("filesystem://", tmp_path, 60),
        **app_settings,
    }
    app = create_app("testing", overrides)
    with app.app_context():
        if database_url.startswith("postgresql"):
            reset_postgres_schema()
        else:
            db.create_all()
        yield app
        db.session.remove()
        with db.engine.connect() as connection:
            assert disagreements(connection) == [], "a campaign's email counters differ from its emails"
        db.engine.dispose()


@pytest.fixture
def fresh_g_per_request(app: Flask) -> Iterator[None]:
    """Each request starts with an empty `g`, as in production.

    The tests' app context is pushed once and every test-client request reuses it, so `g` would carry
    Flask-Login's loaded user and Flask-WTF's signed CSRF token from one request (one browser) to the
    next: a copied cookie would seem to work because the user was still cached.
    """

    def clear(sender: Flask, **extra: object) -> None:
        for name in list(g):
            g.pop(name)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


@pytest.fixture
def engine_settings(app: Flask) -> EngineSettings:
    return EngineSettings.from_config(app.config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token_from(response: TestResponse) -> str:
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def post_form(
    client: FlaskClient, url: str, data: dict[str, Any], form_url: str | None = None, **kwargs: Any
) -> TestResponse:
    """Submit a form as a browser would: load the page for its CSRF token, then post."""
    token = csrf_token_from(client.get(form_url or url))
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = iter(range(1, 1_000_000))

    def make(username: str | None = None, password: str = PASSWORD, **fields: Any) -> User:
        username = username or f"user{next(counter)}"
        user = User(username=username, email=fields.pop("email", f"{username}@example.com"), **fields)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, identifier: str, password: str = PASSWORD, **kwargs: Any) -> TestResponse:
        return post_form(self.client, "/login", {"identifier": identifier, "password": password}, **kwargs)

    def logout(self) -> TestResponse:
        return post_form(self.client, "/logout", {}, form_url="/")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def logged_in(make_user: Callable[..., User], auth: AuthActions) -> User:
    """A user who is logged in on `client`."""
    user = make_user()
    auth.login(user.username)
    return user
