"""Fixtures shared by every test: an app on a fresh database, a client and log-in helpers (test data: tests/builders.py)."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import TestResponse

from app import create_app
from app.email_counts import disagreements
from app.extensions import db
from app.models import User
from app.sending.settings import EngineSettings
from config import celery_settings
from tests.services import database_backends, postgres_url
from tests.shared_apps import needs_own_app, shared_apps

pytest_plugins = [
    "tests.quick_apps",
    "tests.loopback_only",
    "tests.smtp_fixtures",
    "tests.dovecot_fixtures",
    "tests.stack",
    "tests.newcomer",
]

#: Fixtures that start real processes: a test using one must be marked `processes`, which
#: `make test-fast` leaves out (the others start theirs in the test and are marked by hand).
PROCESS_FIXTURES = {"stack", "make_run", "make_sink", "gunicorn", "importer_costs"}
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
_postgres_schema_ready = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    require_process_marks(items)
    run_once_on_one_database(config, items)


def require_process_marks(items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ()))
        and not item.get_closest_marker("processes")
    ]
    if unmarked:
        raise pytest.UsageError(
            "These tests start real processes but are not marked `processes` (add "
            "`pytestmark = pytest.mark.processes`): " + ", ".join(unmarked)
        )


def run_once_on_one_database(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A browser test, or one marked `one_database`, is about pages or timing, not the database: where the
    run has both databases it runs on one of them, PostgreSQL and SQLite in turn module by module, so
    each journey runs once and the pages are still seen on both."""
    if len(database_backends()) < 2:
        return
    once = [item for item in items if _runs_once(item)]
    modules = sorted({item.nodeid.split("::")[0] for item in once})
    backend = {module: ("postgresql", "sqlite")[index % 2] for index, module in enumerate(modules)}
    dropped = {
        item for item in once if item.callspec.params["database_url"] != backend[item.nodeid.split("::")[0]]
    }
    config.hook.pytest_deselected(items=list(dropped))
    items[:] = [item for item in items if item not in dropped]


def _runs_once(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    marked = item.get_closest_marker("browser") or item.get_closest_marker("one_database")
    return bool(marked and callspec and "database_url" in callspec.params)


def empty_database() -> None:
    """Empty every table and restart the ids: each test starts from a database with every table and no row.

    The tables are made once per run and process (PostgreSQL: here, the first time; SQLite: by
    `sqlite_database`). DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE of every table costs a
    few hundred milliseconds on this kind of machine (it replaces each table's files) where DELETE costs
    a few. SQLite gives a table without rows the id 1 again by itself."""
    global _postgres_schema_ready
    postgres = db.engine.dialect.name == "postgresql"
    if postgres and not _postgres_schema_ready:
        db.drop_all()
        db.create_all()
        _postgres_schema_ready = True
        return
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    if postgres:
        sequences = db.session.scalars(
            sa.text("SELECT oid::regclass::text FROM pg_class WHERE relkind = 'S'")
        )
        restarts = ", ".join(f"setval('{sequence}', 1, false)" for sequence in sequences)
        if restarts:
            db.session.execute(sa.text(f"SELECT {restarts}"))
    db.session.commit()


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
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


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database of this test process's own, with every table, made once."""
    path = tmp_path_factory.mktemp("database") / "app.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture(params=database_backends())
def database_url(request: pytest.FixtureRequest) -> str:
    """The test process's database of that kind, emptied for each test (by `app`)."""
    return request.getfixturevalue(f"{request.param}_database")


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Settings a test module may override (e.g. engine intervals)."""
    return {}


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    database_url: str,
    app_settings: dict[str, Any],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Flask]:
    """The app on an empty database, with an instance folder of the test's own (pending uploads).

    Lent from the apps of the run (tests/shared_apps.py) unless the test needs its own: then anything it
    enqueues goes to a broker folder of the test's own, where the processes it starts read."""
    instance = tmp_path / "instance"

    def build(broker_folder: Path) -> Flask:
        overrides = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": instance,
            "CELERY": celery_settings("filesystem://", broker_folder, 60),
            **app_settings,
        }
        return create_app("testing", overrides)

    if needs_own_app(request):
        app = build(tmp_path)
    else:
        key = repr((database_url, sorted(app_settings.items())))
        app = shared_apps.lend(key, lambda: build(tmp_path_factory.mktemp("broker")), instance)
    with app.app_context():
        empty_database()
        yield app
        db.session.remove()
        with db.engine.connect() as connection:
            assert disagreements(connection) == [], "a campaign's email counters differ from its emails"
        db.engine.dispose()


@pytest.fixture
def uploads_folder(app: Flask) -> Path:
    """Where the app keeps uploads between review and save: under the test's own instance folder."""
    return Path(app.instance_path) / "uploads"


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
def production_errors(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A view's exception reaches the client as production serves it, the 500 page, instead of being
    re-raised into the test (Flask's behaviour when testing)."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


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


def csrf_token_for(client: FlaskClient) -> str:
    """The CSRF token the client's pages carry: Flask-WTF's random value kept in the session, signed with
    the app's key. Loading a form's page only to read it back cost a tenth of the quick tests' time."""
    app = client.application
    with client.session_transaction() as session:
        raw = session.setdefault(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), secrets.token_hex(20))
    key = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    return URLSafeTimedSerializer(key, salt="wtf-csrf-token").dumps(raw)


def post_form(client: FlaskClient, url: str, data: dict[str, Any], **kwargs: Any) -> TestResponse:
    """Submit a form as a browser would, with the CSRF token of the client's session."""
    return client.post(url, data={"csrf_token": csrf_token_for(client), **data}, **kwargs)


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
        return post_form(self.client, "/logout", {})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def logged_in(make_user: Callable[..., User], client: FlaskClient) -> User:
    """A user who is logged in on `client`: the session cookie a log-in gives, written straight into the
    client (logging in through the form is tests/auth's; here it would cost two requests a test)."""
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return user
