"""`make run` as a newcomer runs it: the app on the port `PORT` names, a clear end when that port is
taken, and Ctrl-C stopping all of it (tests/newcomer.py runs the real recipe)."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.newcomer import MakeRun, alive, needs_make
from tests.services import free_port

pytestmark = pytest.mark.processes


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[MakeRun]:
    needs_make()
    run = MakeRun(tmp_path / "instance", free_port(), WEB_CONCURRENCY="2")
    try:
        run.wait_until_ready()
        yield run
    finally:
        run.close()


def test_make_run_starts_from_an_empty_instance_folder_on_the_port_named_by_PORT(make_run, tmp_path):
    with urllib.request.urlopen(f"{make_run.url}/signup", timeout=30) as response:
        assert response.status == 200
        assert b"Sign up" in response.read()
    made = {path.name for path in (tmp_path / "instance").iterdir()}
    assert {"app.db", "secret_key", "smtp_encryption_key", "broker"} <= made


def test_ctrl_c_stops_web_worker_and_beat_cleanly_with_no_error_from_make(make_run):
    pids = make_run.pids()
    assert set(pids) == {"web", "worker", "beat"}
    time.sleep(2)  # a real Ctrl-C comes after the worker's sender has started its build processes

    started = time.monotonic()
    make_run.ctrl_c()
    assert make_run.ended_within(60), make_run.output[-3000:]
    print(f"make run ended {time.monotonic() - started:.1f} s after Ctrl-C")

    for name in pids:
        assert f"{name}.1 stopped (rc=0)" in make_run.output, make_run.output[-3000:]
    assert "SIGKILL" not in make_run.output
    assert "make: ***" not in make_run.output
    assert not [name for name, pid in pids.items() if alive(pid)]


def test_a_port_in_use_ends_make_run_saying_so(tmp_path: Path):
    needs_make()
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = MakeRun(tmp_path / "instance", port)
        try:
            assert run.ended_within(90), run.output[-3000:]
        finally:
            run.close()
    assert f"Connection in use: ('0.0.0.0', {port})" in run.output
    assert f"Can't connect to ('0.0.0.0', {port})" in run.output
    assert not [name for name, pid in run.pids().items() if alive(pid)]
