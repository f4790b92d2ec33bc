"""What the tenancy benchmark reads about the system under test while it runs, and how.

- Memory and CPU come from `/proc` for the worker's whole process tree (its pool's children too, should
  `CELERY_POOL` be `prefork`): resident memory summed over the tree, polled; CPU as utime + stime of
  each process, plus what it has already collected from children that exited.
- Database connections are counted in `pg_stat_activity` from a connection to the `postgres`
  database, so the poll never counts itself; the benchmark's own connections to the benchmark's
  database carry `application_name` `OWN_APPLICATION` and are left out too. What is left is the
  engine's: worker and beat.

`Monitor` polls both every `POLL_SECONDS` in a thread and keeps the peaks.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlalchemy as sa

POLL_SECONDS = 0.2
#: The `application_name` of the benchmark's own database connections, which the count leaves out.
OWN_APPLICATION = "bench-tenancy"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

CONNECTIONS = sa.text(
    """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = :database AND backend_type = 'client backend' AND application_name <> :own
    """
)


def _stat_fields(pid: int) -> list[str]:
    """`/proc/<pid>/stat` from its third field (state) on: the command name may hold spaces."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants that are alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parent = int(_stat_fields(int(entry.name))[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by the tree, children it has reaped included."""
    ticks = 0
    for pid in process_tree(root):
        try:
            utime, stime, cutime, cstime = map(int, _stat_fields(pid)[11:15])
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += utime + stime + cutime + cstime
    return ticks / CLOCK_TICKS


def _status_kib(pid: int, field: str) -> int:
    """A `kB` figure from `/proc/<pid>/status` (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def rss_bytes(root: int) -> int:
    """Resident memory of the whole tree now."""
    return sum(_status_kib(pid, "VmRSS") for pid in process_tree(root)) * 1024


def high_water_bytes(pid: int) -> int:
    """The highest resident memory the process itself has had (its `VmHWM`)."""
    return _status_kib(pid, "VmHWM") * 1024


class Monitor:
    """Polls, in a thread, the engine's connections to `database` and the RSS of the tree of `worker_pid`.

    `postgres_url` is any URL of the server whose database is `postgres`; the monitor holds one
    connection there while it runs.
    """

    def __init__(self, postgres_url: str, database: str, worker_pid: int) -> None:
        self.database = database
        self.worker_pid = worker_pid
        self.peak_connections = 0
        self.peak_rss = 0
        self.error: BaseException | None = None
        self._engine = sa.create_engine(postgres_url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)

    def _sample(self, connection: sa.Connection) -> None:
        count = connection.execute(CONNECTIONS, {"database": self.database, "own": OWN_APPLICATION}).scalar()
        self.peak_connections = max(self.peak_connections, int(count or 0))
        self.peak_rss = max(self.peak_rss, rss_bytes(self.worker_pid))

    def _run(self) -> None:
        try:
            with self._engine.connect() as connection:
                while True:
                    self._sample(connection)
                    if self._stop.wait(POLL_SECONDS):
                        return
        except BaseException as error:  # reported by stop(): a thread's exception would go unseen
            self.error = error

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling; raise what went wrong in the thread, if anything did."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._engine.dispose()
        self.peak_rss = max(self.peak_rss, high_water_bytes(self.worker_pid))
        if self.error is not None:
            raise RuntimeError("the monitor failed") from self.error

    def __enter__(self) -> Monitor:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
