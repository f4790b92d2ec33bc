"""Worker and beat started the way an operator starts them: `./start_celery.sh worker` and `... beat`.

A benchmark that started Celery with arguments of its own would measure its own settings, not the
shipped ones; through `start_celery.sh` it gets the pool, concurrency and prefetch the script chooses,
and only the environment it passes differs (its database, its broker, the settings it shortens).

Each process gets a session of its own, so it can be signalled as a group, and `PR_SET_PDEATHSIG`, so
that even a benchmark killed with SIGKILL leaves no worker behind sending mail. The script `exec`s
Celery, so the pid started is Celery's own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_CELERY = ROOT / "start_celery.sh"
#: A warm shutdown gets this long after SIGTERM; then SIGKILL.
STOP_SECONDS = 15.0
PR_SET_PDEATHSIG = 1
#: What each role logs once it is up.
READY = {"worker": " ready.", "beat": "beat: Starting..."}


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the benchmark's process ends, however it ends."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class CeleryRole:
    """`./start_celery.sh <role>` with `env` added to this process's environment, logging to `log_path`."""

    def __init__(self, role: str, env: dict[str, str], log_path: Path) -> None:
        self.role = role
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(START_CELERY), role],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def banner(self, field: str) -> str:
        """A field of the worker's start-up banner (`.> concurrency: 1 (thread)`), or "?"."""
        found = re.search(rf"\.> {re.escape(field)}: (.+)", self.log_path.read_text(errors="replace"))
        return found.group(1).strip() if found else "?"

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the role has logged that it is up; fail if it exits or takes longer."""
        deadline = time.monotonic() + timeout
        while READY[self.role] not in self.log_path.read_text(errors="replace"):
            if not self.alive:
                raise RuntimeError(f"{self.role} exited (code {self.process.returncode}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.role} not ready after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM to the group (a warm shutdown), SIGKILL after `STOP_SECONDS`; again, nothing."""
        if self.alive:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_SECONDS)
        if self.alive:
            self._signal_group(signal.SIGKILL)
            self.process.wait()
        self._log.close()

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)
