"""A CPU-time budget for a piece of Python code running in the calling thread.

`run_within(seconds, work)` runs `work()` until the thread has used `seconds` of CPU time, then stops
it with `OverBudget`. One watchdog thread per process watches every thread inside `run_within`,
ticking only while there is one; a thread over budget gets the exception through
`PyThreadState_SetAsyncExc`, which Python raises in that thread at its next bytecode boundary. So
any pure-Python loop stops, a Jinja template's included, without a check in the loop itself; a single C
call (a huge `str * n`) is not interrupted, which is why `app.sending.sandbox` refuses those before
they start. Entering and leaving costs a few microseconds.

CPU time, not wall time: a render waiting for the interpreter lock behind other threads is not the
template's fault, and is not charged to it.

A stop can be lost: raised inside a weakref or garbage-collector callback (SQLAlchemy has some), it is
printed and dropped there, and the work goes on. So a thread still watched after another `REFIRE` of CPU
time since its stop gets it again, and again, until it leaves `run_within`.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

#: How often the watchdog looks at the threads it watches (seconds of wall time).
TICK = 0.01
#: CPU time a thread over budget may run after its stop before it is stopped again (seconds): long enough
#: that a thread which did raise its stop has left `run_within` by then.
REFIRE = 0.05

T = TypeVar("T")


class CPUTimeExceeded(BaseException):
    """Raised asynchronously in a thread over its budget, turned into `OverBudget` by `run_within`. A
    BaseException, so that no `except Exception` in the code being stopped can swallow it."""


class OverBudget(Exception):
    """What `run_within` raises when its block used up its CPU time."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass
class _Watched:
    clock: int
    ends_at: float
    fired: bool = False

    def stop_due(self) -> bool:
        """Whether the thread should get a stop now: it is past its budget, or has run `REFIRE` past its
        last stop."""
        used = time.clock_gettime(self.clock)
        if used < self.ends_at:
            return False
        self.fired = True
        self.ends_at = used + REFIRE
        return True


class _Watchdog:
    """The threads being watched, by thread id (one budget per thread: an inner `run_within` runs
    inside the outer one's)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watching: dict[int, _Watched] = {}
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def watch(self, seconds: float) -> bool:
        """Watch this thread for `seconds` of its CPU time from now; False if it is already watched."""
        thread_id = threading.get_ident()
        clock = time.pthread_getcpuclockid(thread_id)
        with self.lock:
            if thread_id in self.watching:
                return False
            self.watching[thread_id] = _Watched(clock, time.clock_gettime(clock) + seconds)
            self._start()
        if not self.wake.is_set():
            self.wake.set()
        return True

    def start(self) -> None:
        with self.lock:
            self._start()

    def _start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="cpu-deadline", daemon=True)
            self.thread.start()

    def forget(self) -> None:
        """Stop watching this thread; an exception fired at it but not yet raised is cancelled."""
        thread_id = threading.get_ident()
        with self.lock:
            watched = self.watching.pop(thread_id, None)
            if watched is not None and watched.fired:
                _set_async_exception(thread_id, None)

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(TICK)
            with self.lock:
                if not self.watching:
                    self.wake.clear()
                    continue
                for thread_id, watched in self.watching.items():
                    if watched.stop_due():
                        _set_async_exception(thread_id, CPUTimeExceeded)


def _set_async_exception(thread_id: int, exception: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


_watchdog = _Watchdog()
# A forked child has none of its parent's threads: it starts a watchdog of its own when it needs one.
os.register_at_fork(after_in_child=lambda: _Watchdog.__init__(_watchdog))


def start() -> None:
    """Start this process's watchdog now (the first `run_within` would, taking a few milliseconds)."""
    _watchdog.start()


def run_within(seconds: float, work: Callable[[], T]) -> T:
    """`work()` with `seconds` of this thread's CPU time; `OverBudget` past them.

    Called inside another `run_within` of the same thread, `work` runs in the outer one's budget.
    """
    if not _watchdog.watch(seconds):
        return work()
    try:
        try:
            return work()
        finally:
            _watchdog.forget()
    except CPUTimeExceeded:
        _watchdog.forget()  # raised before `forget` could run: forget now
        raise OverBudget(seconds) from None
