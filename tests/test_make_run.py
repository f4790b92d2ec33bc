"""`make run` as a newcomer runs it: the app on the port `PORT` names, and Ctrl-C stops all of it.

The test runs the real recipe with make (its set-up steps, already done by `make test`, are taken as
done with `-o`), on the embedded defaults in an empty instance folder, and presses Ctrl-C as a terminal
does: SIGINT to make's whole process group (honcho runs each Procfile process in a session of its own,
so they hear it only from honcho).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import ROOT, wait_until
from tests.services import free_port

pytestmark = pytest.mark.worker

#: Every process named in the Procfile says it is up.
READY = {"web": "Booting worker with pid", "worker": "ready.", "beat": "beat: Starting..."}
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


class MakeRun:
    """`make run` in a session of its own, its output collected line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "-o", "install", "-o", "assets", "-o", "migrate", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def pids(self) -> dict[str, int]:
        return {match[1]: int(match[2]) for match in STARTED.finditer(self.output)}

    def ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def close(self) -> None:
        """Whatever happened, leave no process behind."""
        for pid in [self.process.pid, *self.pids().values()]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        self.process.stdout.close()


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[MakeRun, int]]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), PORT=str(port), WEB_CONCURRENCY="2")
    migrate = subprocess.run(
        ["make", "--no-print-directory", "-o", "install", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert migrate.returncode == 0, migrate.stderr
    run = MakeRun(env)
    try:
        wait_until(
            lambda: all(text in run.output for text in READY.values()) or run.process.poll() is not None,
            90,
            "web, worker and beat to start",
        )
        assert run.process.poll() is None, run.output
        yield run, port
    finally:
        run.close()


def test_make_run_serves_the_app_on_the_port_named_by_PORT(make_run):
    run, port = make_run
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/signup", timeout=30) as response:
        assert response.status == 200
        assert b"Sign up" in response.read()


def test_ctrl_c_stops_web_worker_and_beat_cleanly_with_no_error_from_make(make_run):
    run, _ = make_run
    pids = run.pids()
    assert set(pids) == {"web", "worker", "beat"}
    time.sleep(2)  # a real Ctrl-C comes after the worker's sender has started its build processes

    started = time.monotonic()
    run.ctrl_c()
    wait_until(lambda: run.process.poll() is not None, 60, f"make to end:\n{run.output[-3000:]}")
    print(f"make run ended {time.monotonic() - started:.1f} s after Ctrl-C")

    for name in pids:
        assert f"{name}.1 stopped (rc=0)" in run.output, run.output[-3000:]
    assert "SIGKILL" not in run.output
    assert "make: ***" not in run.output
    assert not [name for name, pid in pids.items() if alive(pid)]
