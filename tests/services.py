"""Which real services the tests may use, and what to do when one is missing.

By default the suite runs on the embedded defaults (SQLite, the filesystem broker). With
`TEST_DATABASE_URL` / `TEST_REDIS_URL` set it also runs on PostgreSQL / Redis; with `REQUIRE_SERVICES=1`
a test that needs a service that is not there fails instead of skipping.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit, urlunsplit

import pytest

from config import normalise_database_url

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
#: Redis's default number of databases (`databases 16`).
REDIS_DATABASES = 16


def service_missing(reason: str) -> None:
    """Skip the calling test, or fail it when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def database_backends() -> list[str]:
    """The database back ends every database test runs on."""
    return ["sqlite", "postgresql"] if TEST_DATABASE_URL or REQUIRE_SERVICES else ["sqlite"]


def postgres_url() -> str:
    if not TEST_DATABASE_URL:
        service_missing("TEST_DATABASE_URL is not set")
    return normalise_database_url(TEST_DATABASE_URL)


def redis_url() -> str:
    """`TEST_REDIS_URL`, with a database of each parallel test process's own (pytest-xdist's `-n`):
    the tests flush it. Process gwN uses the database N below the given one, wrapping at 0."""
    if not TEST_REDIS_URL:
        service_missing("TEST_REDIS_URL is not set")
    import redis

    url = _database_of_this_process(TEST_REDIS_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        service_missing(f"Redis at {url} does not answer: {error}")
    return url


def _database_of_this_process(url: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    parts = urlsplit(url)
    given = int(parts.path.strip("/") or 0)
    database = (given - int(worker.removeprefix("gw"))) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{database}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
