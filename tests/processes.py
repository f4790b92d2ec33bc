"""Real Celery processes for integration tests: a worker and a beat, started like `start_celery.sh` does."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The `celery` script, as start_celery.sh runs it (not `python -m celery`, which would keep the project
#: folder on the import path for good and hide a worker that can't import the app in a child process).
CELERY = [str(Path(sys.executable).with_name("celery")), "-A", "celery_worker"]


#: What every real worker and beat of the tests needs: the SMTP sinks listen on loopback.
PROCESS_SETTINGS = {"SMTP_ALLOW_PRIVATE_HOSTS": "1"}


class CeleryProcess:
    """A worker or beat process with its log in a file, stopped at teardown whatever happened."""

    def __init__(self, role: str, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [*CELERY, role, "--loglevel=info", *args],
            cwd=ROOT,
            env={**os.environ, **PROCESS_SETTINGS, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        wait_until(
            lambda: text in self.log, timeout, f"{text!r} in {self.log_path.name}:\n{self.log[-3000:]}"
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (the worker and any pool children)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the whole process group and return at once (see `exited_within`)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def exited_within(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the process to end; whether it has."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        return self.process.poll() is not None

    def stop(self, graceful: bool = True) -> None:
        """SIGTERM and wait (a warm shutdown), or straight SIGKILL; the log is closed either way."""
        if graceful and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        self.kill()
        self._log.close()


def start_worker(
    env: dict[str, str], log_dir: Path, name: str = "worker", concurrency: int = 2
) -> CeleryProcess:
    worker = CeleryProcess(
        "worker",
        env,
        log_dir / f"{name}.log",
        "--pool=threads",
        f"--concurrency={concurrency}",
        "--prefetch-multiplier=1",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
    )
    worker.wait_for_log("ready.")
    return worker


def start_beat(env: dict[str, str], log_dir: Path, name: str = "beat") -> CeleryProcess:
    return CeleryProcess("beat", env, log_dir / f"{name}.log", f"--schedule={log_dir / name}-schedule")


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
