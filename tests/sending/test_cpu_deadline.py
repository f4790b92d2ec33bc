"""A CPU-time budget for the code of one thread (`app.sending.cpu_deadline`), which stops a template's
render in any loop without a check in the loop itself."""

from __future__ import annotations

import contextlib
import functools
import threading
import time

import pytest

from app.sending.cpu_deadline import OverBudget, run_within


def spin() -> None:
    while True:
        pass


def test_a_pure_python_loop_is_stopped_once_its_thread_has_used_its_budget() -> None:
    started = time.thread_time()
    with pytest.raises(OverBudget):
        run_within(0.1, spin)
    assert 0.1 <= time.thread_time() - started < 0.5


def test_work_within_its_budget_returns_its_result() -> None:
    assert run_within(1.0, lambda: sum(range(1000))) == 499500


def test_each_thread_has_a_budget_of_its_own() -> None:
    outcomes: dict[str, str] = {}

    def spinning() -> None:
        try:
            run_within(0.1, spin)
        except OverBudget:
            outcomes["spinning"] = "stopped"

    def quick() -> None:
        outcomes["quick"] = run_within(5.0, lambda: "done")

    threads = [threading.Thread(target=spinning), threading.Thread(target=quick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcomes == {"spinning": "stopped", "quick": "done"}


def test_an_inner_budget_runs_inside_the_outer_one() -> None:
    started = time.thread_time()
    with pytest.raises(OverBudget):
        run_within(0.1, lambda: run_within(100.0, spin))
    assert time.thread_time() - started < 0.5


def test_no_stop_arrives_after_the_work_has_returned() -> None:
    """Work ending about when its budget does, many times over: a stop fired as the work ended must not
    surface later, in code that is not the work's."""

    def about(seconds: float) -> None:
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass

    for attempt in range(150):
        with contextlib.suppress(OverBudget):
            run_within(0.01, functools.partial(about, 0.008 + attempt % 5 * 0.001))
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:  # Python code running after the last budget, which any stray
        pass  # stop would interrupt (it is a BaseException: the test would error)


def test_a_stop_the_work_swallows_comes_again() -> None:
    """A stop raised in a callback that drops exceptions (a garbage-collector or weakref callback) is lost
    there; the work is stopped again soon after, not left running unbounded."""

    def swallows_the_first_stop() -> None:
        with contextlib.suppress(BaseException):
            spin()
        spin()

    started = time.thread_time()
    with pytest.raises(OverBudget):
        run_within(0.1, swallows_the_first_stop)
    assert time.thread_time() - started < 0.5
