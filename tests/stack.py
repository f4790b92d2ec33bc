"""The whole sending stack in real processes: the test's database, a broker, workers and beats.

SQLite runs with the embedded filesystem broker, PostgreSQL with Redis (DESIGN.md). The test process
shares the database with the workers through `app`, and must not keep a transaction open while they
work: `Stack.read` always ends its transaction.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from flask import Flask

from app.extensions import db
from config import celery_settings
from tests.processes import CeleryProcess, start_beat, start_worker, wait_until
from tests.services import free_port, redis_url, service_missing

T = TypeVar("T")


class Stack:
    def __init__(
        self, app: Flask, database_url: str, broker_url: str, folder: Path, settings: dict[str, Any]
    ) -> None:
        self.app = app
        self.folder = folder
        self.env = {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SMTP_ENCRYPTION_KEY": app.config["SMTP_ENCRYPTION_KEY"],
            **{name: str(value) for name, value in settings.items() if isinstance(value, str | int | float)},
        }
        self.processes: list[CeleryProcess] = []
        app.extensions["celery"].conf.update(celery_settings(broker_url, folder, app.config["CLAIM_LEASE"]))

    def worker(self, name: str = "worker", concurrency: int = 2, **env: Any) -> CeleryProcess:
        process = start_worker({**self.env, **_strings(env)}, self.folder, name, concurrency)
        self.processes.append(process)
        return process

    def beat(self, name: str = "beat", **env: Any) -> CeleryProcess:
        process = start_beat({**self.env, **_strings(env)}, self.folder, name)
        self.processes.append(process)
        return process

    def start(
        self, worker: str = "worker", beat: str = "beat", concurrency: int = 2, **env: Any
    ) -> tuple[CeleryProcess, CeleryProcess]:
        """A worker and a beat with the same settings, booting side by side (each takes seconds to
        import the app): the beat is started first, so it ticks as soon as the worker is ready."""
        started_beat = self.beat(beat, **env)
        return self.worker(worker, concurrency, **env), started_beat

    def read(self, query: Callable[[], T]) -> T:
        """Run a read in a transaction of its own, so the workers are never blocked by the test."""
        try:
            db.session.expire_all()
            return query()
        finally:
            db.session.rollback()

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        wait_until(lambda: self.read(condition), timeout, what, interval=0.1)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(graceful=False)

    @property
    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log[-4000:]}" for p in self.processes)


class RedisServer:
    """A redis-server of a test's own on a free port (no persistence), which it may kill and start again."""

    def __init__(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            service_missing("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [str(server), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self._command += ["--appendonly", "no"]
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL)
        wait_until(self.answers, 10, f"redis-server on port {self.port}")
        return self

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_connect_timeout=0.2) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False


def _strings(values: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in values.items()}


@pytest.fixture
def stack(app: Flask, database_url: str, app_settings: dict[str, Any], tmp_path: Path) -> Iterator[Stack]:
    if database_url.startswith("sqlite"):
        broker = "filesystem://"
    else:
        broker = redis_url()
        redis.Redis.from_url(broker).flushdb()
    running = Stack(app, database_url, broker, tmp_path, app_settings)
    yield running
    running.stop()
