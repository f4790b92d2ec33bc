"""What a newcomer starts from the README, as real processes: `make sink` and `make run`.

`make run` is the real recipe run by make (its set-up steps, already done by `make test`, are taken as
done with `-o`), on the embedded defaults in an empty instance folder. Ctrl-C is sent as a terminal
sends it: SIGINT to the whole process group (honcho runs each Procfile process in a session of its
own, so they hear it only from honcho).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import ROOT, wait_until
from tests.services import free_port

SINK_READY = "Test SMTP sink listening on 127.0.0.1:"
#: Every process named in the Procfile says it is up.
RUN_READY = {"web": "Booting worker with pid", "worker": "ready.", "beat": "beat: Starting..."}
#: Settings of the test's own process that must not reach a newcomer's `make run`.
NOT_INHERITED = (
    "APP_ENV",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "SMTP_ENCRYPTION_KEY",
)
STARTED = re.compile(r"system\s+\| (\w+)\.1 started \(pid=(\d+)\)")
#: make's own arguments for running one target with its set-up prerequisites taken as done.
MAKE = ["make", "--no-print-directory", "-o", "install", "-o", "assets", "-o", "migrate"]


class OutputProcess:
    """A process in a session of its own, its stdout collected line by line by a thread."""

    def __init__(self, command: list[str], env: dict[str, str], stderr: int = subprocess.STDOUT) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._new.put(self.lines[-1])

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def read_until(self, text: str, timeout: float = 10.0) -> list[str]:
        """The lines printed from now until one containing `text`."""
        seen = []
        while True:
            try:
                line = self._new.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"never printed {text!r}; printed {seen}") from None
            seen.append(line)
            if text in line:
                return seen

    def ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def ended_within(self, timeout: float) -> bool:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        return self.process.poll() is not None

    def groups(self) -> list[int]:
        return [self.process.pid]

    def close(self) -> None:
        """Whatever happened, leave no process behind."""
        for group in self.groups():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        self.process.stdout.close()
        if self.process.stderr:
            self.process.stderr.close()


class Sink(OutputProcess):
    """`python -m app.devtools.sink` (what `make sink` runs) on `port`; its errors kept apart."""

    def __init__(self, port: int) -> None:
        self.port = port
        env = {**os.environ, "SINK_PORT": str(port), "PYTHONUNBUFFERED": "1"}
        super().__init__([sys.executable, "-m", "app.devtools.sink"], env, stderr=subprocess.PIPE)

    def errors(self) -> str:
        """Everything it wrote to stderr (once it has ended)."""
        return self.process.stderr.read()


class MakeRun(OutputProcess):
    """`make run` with `settings` on top of a newcomer's environment, in `instance`."""

    def __init__(self, instance: Path, port: int, **settings: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
        env.update(INSTANCE_PATH=str(instance), PORT=str(port), **settings)
        migrate = subprocess.run(
            ["make", "--no-print-directory", "-o", "install", "migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert migrate.returncode == 0, migrate.stderr
        super().__init__([*MAKE, "run"], env)

    def pids(self) -> dict[str, int]:
        """The Procfile processes honcho started, by name (each leads a session of its own)."""
        return {match[1]: int(match[2]) for match in STARTED.finditer(self.output)}

    def groups(self) -> list[int]:
        return [self.process.pid, *self.pids().values()]

    def wait_until_ready(self) -> None:
        wait_until(
            lambda: (
                all(text in self.output for text in RUN_READY.values()) or self.process.poll() is not None
            ),
            90,
            "web, worker and beat to start",
        )
        assert self.process.poll() is None, self.output


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def needs_make() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")


@pytest.fixture
def make_sink() -> Iterator[Sink]:
    """`make sink`, on a free port, listening."""
    process = Sink(free_port())
    try:
        process.read_until(SINK_READY)
        yield process
    finally:
        process.close()
