"""`make bench-tenancy`: many accounts sending at the same time through one real worker (issue 12).

For N accounts (10, 100 and 1,000; `BENCH_TENANCY_SIZES=10,100`), each its own user, scheduled campaign
and SMTP account with M emails (4; `BENCH_TENANCY_EMAILS`) and an interval of I seconds between two of
its emails (10; `BENCH_TENANCY_INTERVAL`), all emails due at one moment T0: if every account sends at
its own pace at the same time, the last email leaves (M - 1) x I after T0, whatever N. The benchmark
measures how close one worker comes to that, and what it costs.

How it is built, and why:
- The engine runs as an operator runs it: `./start_celery.sh worker` and `./start_celery.sh beat`
  (`bench.celery_processes`), with the shipped settings except two, passed in the environment: the
  interval (`SEND_INTERVAL`) and beat's tick (`DISPATCH_INTERVAL`, 2 s; `BENCH_TENANCY_TICK`), so that a
  size takes a minute rather than an hour. Batch size, `DISPATCH_SPACING`, `CONNECTION_SETTLE` and
  `CELERY_CONCURRENCY` stay as shipped: they are part of what is measured.
- Every account has an SMTP host of its own, a loopback address, all served by one sink process
  (`bench.multisink`, which says why): `DISPATCH_SPACING` spaces batches bound for one host, and the
  benchmark is about unrelated tenants, not one provider's herd.
- T0 is set only once worker and beat are up, `LEAD_SECONDS` ahead: the emails are seeded a day in the
  future (Core inserts, a dummy password hash: scrypt for a thousand users would take minutes), then moved
  to T0. Start-up is not part of the figures.
- Every time is the sink's: when it received each message (wall clock, like the UTC T0). The sink also
  names each message's account (the address it came in on) and its Message-ID, checked against the
  database.
- Database connections, the worker's RSS and CPU come from `bench.probes`, polled every 0.2 s for the
  whole run; the benchmark's own database connections are left out of the count.
- Each size starts from empty tables, an empty broker database, its own sink, worker and beat, all
  stopped (SIGTERM, SIGKILL after 15 s) before the next. A size that has not finished by
  T0 + ideal + `GRACE_SECONDS` reports what it got, and the next size runs. The sink's own CPU time and
  the load average are printed too: on a shared two-core machine they say whether a slow figure is the
  engine's. `BENCH_TENANCY_KEEP=<folder>` keeps each size's worker and beat logs and the sink's records
  (`deliveries.jsonl`) there; everything else is removed, on Ctrl-C or failure too.

Targets (issue 12, at 1,000 accounts; printed as PASS/FAIL at every size): makespan / ideal <= 1.2,
every gap between two emails of an account >= I (10 ms of clock slack), median gap <= I + 0.5 s,
first email of every account <= DISPATCH_INTERVAL + 2 s after T0, <= 20 database connections, worker
RSS <= 500 MB, and no email lost or sent twice. The last line is `key=value` for the largest size.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Email, SMTPSettings, User
from app.states import UNFINISHED, CampaignStatus, EmailStatus
from bench.celery_processes import CeleryRole
from bench.common import Bench, bench_app, run, vacuum_analyze
from bench.multisink import (
    Delivery,
    MultiSink,
    descriptors_needed,
    loopback_addresses,
    raise_descriptor_limit,
)
from bench.probes import OWN_APPLICATION, Monitor, cpu_seconds

DATABASE = "bench_tenancy"
#: T0 is this far ahead of the moment worker and beat are ready.
LEAD_SECONDS = 3.0
#: How long after the ideal makespan a size may still run before it reports what it has.
GRACE_SECONDS = 120.0
#: Lines of the worker's log shown when a size went wrong.
LOG_LINES = 12
#: How long, once the sink has every email, the database may take to show them all sent.
DB_SETTLE_SECONDS = 10.0
POLL_SECONDS = 0.2
CLOCK_SLACK = 0.010
#: No one logs in as a benchmark user; a real scrypt hash per user would cost 0.1 s each.
DUMMY_PASSWORD_HASH = "bench:no-login"
SUBJECT, HTML_BODY = "Hello {{ name }}", "<p>Dear {{ name }}, this is the tenancy benchmark.</p>"
MB = 1024 * 1024


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    emails: int
    interval: float
    tick: float
    #: Where to keep each size's worker and beat logs and the sink's records, for a post-mortem.
    keep: Path | None = None

    @classmethod
    def from_env(cls) -> Options:
        sizes = os.environ.get("BENCH_TENANCY_SIZES") or "10,100,1000"
        return cls(
            sizes=tuple(sorted(int(size) for size in sizes.split(",") if size.strip())),
            emails=int(os.environ.get("BENCH_TENANCY_EMAILS") or 4),
            interval=float(os.environ.get("BENCH_TENANCY_INTERVAL") or 10.0),
            tick=float(os.environ.get("BENCH_TENANCY_TICK") or 2.0),
            keep=Path(keep) if (keep := os.environ.get("BENCH_TENANCY_KEEP")) else None,
        )

    @property
    def ideal(self) -> float:
        """Every account at its own pace, all at once: the last email leaves this long after T0."""
        return (self.emails - 1) * self.interval

    def engine_settings(self) -> dict[str, float]:
        """The only settings that differ from the shipped ones."""
        return {"SEND_INTERVAL": self.interval, "DISPATCH_INTERVAL": self.tick}


# ----- the accounts and their data ------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """One account: its SMTP host (a loopback address of its own), its sender and its recipients."""

    host: str
    from_address: str
    recipients: tuple[str, ...]


def tenants(count: int, emails: int) -> list[Tenant]:
    return [
        Tenant(host, f"a{k:04d}@sender.example", tuple(f"r{k:04d}.{j}@rcpt.example" for j in range(emails)))
        for k, host in enumerate(loopback_addresses(count), start=1)
    ]


def _insert(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` in one executemany; their ids, in the rows' order."""
    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(connection.execute(statement, rows).scalars())


def seed(engine: sa.Engine, people: Sequence[Tenant], port: int, scheduled_at: datetime) -> None:
    """A user, an SMTP account at `tenant.host:port` (no TLS, no login), a scheduled campaign and its
    emails for every tenant, all due at `scheduled_at`."""
    with engine.begin() as connection:
        user_ids = _insert(
            connection,
            User.__table__,
            [
                {
                    "username": f"tenant{k}",
                    "email": f"tenant{k}@example.com",
                    "password_hash": DUMMY_PASSWORD_HASH,
                }
                for k in range(1, len(people) + 1)
            ],
        )
        account_ids = _insert(
            connection,
            SMTPSettings.__table__,
            [
                {
                    "user_id": user_id,
                    "host": tenant.host,
                    "port": port,
                    "security": "none",
                    "from_address": tenant.from_address,
                    "from_name": f"Tenant {user_id}",
                }
                for user_id, tenant in zip(user_ids, people, strict=True)
            ],
        )
        campaign_ids = _insert(
            connection,
            Campaign.__table__,
            [
                {
                    "user_id": user_id,
                    "smtp_account_id": account_id,
                    "name": f"Tenancy {account_id}",
                    "subject": SUBJECT,
                    "html_body": HTML_BODY,
                    "status": CampaignStatus.SCHEDULED,
                    "scheduled_at": scheduled_at,
                }
                for user_id, account_id in zip(user_ids, account_ids, strict=True)
            ],
        )
        connection.execute(
            sa.insert(Email.__table__),
            [
                {
                    "user_id": user_id,
                    "campaign_id": campaign_id,
                    "smtp_account_id": account_id,
                    "address": address,
                    "name": f"Reader {address.partition('@')[0]}",
                    "merge_data": {},
                    "status": EmailStatus.PENDING,
                    "scheduled_at": scheduled_at,
                    "attempts": 0,
                }
                for user_id, account_id, campaign_id, tenant in zip(
                    user_ids, account_ids, campaign_ids, people, strict=True
                )
                for address in tenant.recipients
            ],
        )


def utc(moment: float) -> datetime:
    """A `time.time()` as the app stores times: naive UTC."""
    return datetime.fromtimestamp(moment, UTC).replace(tzinfo=None)


def make_due_at(engine: sa.Engine, moment: float) -> None:
    """Every email and campaign scheduled at `moment`."""
    with engine.begin() as connection:
        connection.execute(sa.update(Email.__table__).values(scheduled_at=utc(moment)))
        connection.execute(sa.update(Campaign.__table__).values(scheduled_at=utc(moment)))


def reset(engine: sa.Engine, redis_url: str) -> None:
    """Empty every table of the app and the broker's Redis database."""
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    redis.Redis.from_url(redis_url).flushdb()


@dataclass(frozen=True)
class Recorded:
    """What the database says at the end: emails by status, and each sent email's Message-ID."""

    statuses: dict[str, int]
    message_ids: dict[str, str]

    @property
    def unfinished(self) -> int:
        return sum(self.statuses.get(status, 0) for status in UNFINISHED)


def recorded(engine: sa.Engine) -> Recorded:
    with engine.connect() as connection:
        statuses = connection.execute(sa.select(Email.status, sa.func.count()).group_by(Email.status))
        sent = connection.execute(
            sa.select(Email.address, Email.message_id).where(Email.status == EmailStatus.SENT)
        )
        return Recorded({row[0]: row[1] for row in statuses}, {row[0]: row[1] for row in sent})


# ----- one size ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """What the engine's run looked like from outside: T0, whether it finished, and its costs."""

    t0: float
    finished: bool
    peak_connections: int
    peak_rss: int
    worker_cpu: float
    worker_log: str
    #: As the worker's banner gives it, e.g. "1 (thread)".
    worker_concurrency: str
    #: The sink's CPU seconds over the same span: far below the span, or the sink may have held it back.
    sink_cpu: float
    load_average: float


@dataclass(frozen=True)
class Observation:
    """What one size observed: its accounts, the run, what the sink received and the database says."""

    accounts: list[Tenant]
    measured: Measured
    deliveries: list[Delivery]
    database: Recorded


def start_engine(bench: Bench, stack: ExitStack, folder: Path) -> tuple[CeleryRole, CeleryRole]:
    """Worker and beat, as `start_celery.sh` starts them, on the benchmark's database and broker; ready."""
    env = {**bench.process_env(), "INSTANCE_PATH": str(folder)}
    worker = CeleryRole("worker", env, folder / "worker.log")
    stack.callback(worker.stop)
    beat = CeleryRole("beat", env, folder / "beat.log")
    stack.callback(beat.stop)
    worker.wait_ready()
    beat.wait_ready()
    return worker, beat


def wait_until(done: Callable[[], bool], deadline: float, processes: Iterable[CeleryRole]) -> bool:
    """Poll `done` until it holds (True), the wall clock passes `deadline` or a process exits (False)."""
    while not done():
        stopped = [process.role for process in processes if not process.alive]
        if stopped:
            print(f"  {' and '.join(stopped)} exited during the run")
            return False
        if time.time() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def send_all(bench: Bench, engine: sa.Engine, sink: MultiSink, options: Options, folder: Path) -> Measured:
    """Start worker and beat, make every email due at T0, wait until the sink has them all (or the
    deadline passes), and stop worker and beat again, whatever happens."""
    expected = len(sink.addresses) * options.emails
    load_average = os.getloadavg()[0]
    with ExitStack() as stack:
        worker, beat = start_engine(bench, stack, folder)
        monitor = Monitor(postgres_url(bench), DATABASE, worker.pid).start()
        try:
            t0 = time.time() + LEAD_SECONDS
            make_due_at(engine, t0)
            vacuum_analyze(engine)
            cpu_at_start, sink_cpu_at_start = cpu_seconds(worker.pid), cpu_seconds(sink.pid)
            deadline = t0 + options.ideal + GRACE_SECONDS
            finished = wait_until(lambda: sink.recipients_received() >= expected, deadline, (worker, beat))
            if finished:
                settled = time.time() + DB_SETTLE_SECONDS
                wait_until(lambda: recorded(engine).unfinished == 0, settled, (worker, beat))
            worker_cpu = cpu_seconds(worker.pid) - cpu_at_start
            sink_cpu = cpu_seconds(sink.pid) - sink_cpu_at_start
        finally:
            monitor.stop()
        return Measured(
            t0,
            finished,
            monitor.peak_connections,
            monitor.peak_rss,
            worker_cpu,
            worker.log_tail(LOG_LINES),
            worker.banner("concurrency"),
            sink_cpu,
            load_average,
        )


def run_size(bench: Bench, engine: sa.Engine, options: Options, count: int) -> Observation:
    """`count` accounts seeded, sent and counted, from empty tables and an empty broker."""
    raise_descriptor_limit(descriptors_needed(count))  # the worker inherits it: a connection per account
    reset(engine, bench.redis_url)
    accounts = tenants(count, options.emails)
    folder = bench.folder / f"accounts-{count}"
    folder.mkdir()
    with MultiSink(count) as sink:
        seed(engine, accounts, sink.port, utc(time.time()) + timedelta(days=1))
        vacuum_analyze(engine)
        measured = send_all(bench, engine, sink, options, folder)
        # Read once worker and beat have stopped: what they finished while stopping counts too.
        deliveries = sink.deliveries()
    if options.keep:
        keep(folder, options.keep / folder.name, deliveries)
    return Observation(accounts, measured, deliveries, recorded(engine))


def keep(folder: Path, destination: Path, deliveries: Iterable[Delivery]) -> None:
    """The size's logs, and the sink's records as JSON lines, into `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    for log in folder.glob("*.log"):
        shutil.copy(log, destination / log.name)
    with (destination / "deliveries.jsonl").open("w") as out:
        out.writelines(json.dumps(asdict(delivery)) + "\n" for delivery in deliveries)


def postgres_url(bench: Bench) -> str:
    """The benchmark's server, database `postgres`: where the monitor counts connections from."""
    return sa.make_url(bench.database_url).set(database="postgres").render_as_string(hide_password=False)


# ----- figures -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """The figures of one size, named as in the result line."""

    accounts: int
    makespan_s: float
    ideal_s: float
    ratio: float
    first_delay_median_s: float
    first_delay_max_s: float
    gap_min_s: float
    gap_median_s: float
    db_connections_peak: int
    rss_mb_peak: float
    cpu_s_per_email: float
    duplicates: int
    lost: int


#: Decimals of each figure in the result line (the smallest gap to the millisecond: 10 ms is the slack).
DECIMALS = {"ratio": 2, "gap_min_s": 3, "gap_median_s": 3, "rss_mb_peak": 1, "cpu_s_per_email": 4}


def result_line(figures: Figures) -> str:
    """The one line of `key=value` pairs a script reads (docs/benchmarks.md)."""
    pairs = []
    for field in fields(figures):
        value = getattr(figures, field.name)
        text = f"{value:.{DECIMALS.get(field.name, 2)}f}" if isinstance(value, float) else str(value)
        pairs.append(f"{field.name}={text}")
    return " ".join(pairs)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _max(values: Iterable[float]) -> float:
    return max(values, default=math.nan)


def _min(values: Iterable[float]) -> float:
    return min(values, default=math.nan)


def times_by_account(deliveries: Iterable[Delivery], accounts: Sequence[Tenant]) -> dict[str, list[float]]:
    """Every account's receive times, in order (an account that got nothing has an empty list)."""
    times: dict[str, list[float]] = {tenant.host: [] for tenant in accounts}
    for delivery in deliveries:
        times.setdefault(delivery.local_address, []).append(delivery.received_at)
    return {host: sorted(received) for host, received in times.items()}


def gaps(times: dict[str, list[float]]) -> list[float]:
    """Seconds between two consecutive emails of one account, over all accounts."""
    return [later - earlier for received in times.values() for earlier, later in pairwise(received)]


def copies(deliveries: Iterable[Delivery]) -> Counter[str]:
    return Counter(address for delivery in deliveries for address in delivery.recipients)


def misrouted(deliveries: Iterable[Delivery], accounts: Sequence[Tenant]) -> int:
    """Messages that arrived on an address other than their account's, or from another sender."""
    by_host = {tenant.host: tenant for tenant in accounts}
    wrong = 0
    for delivery in deliveries:
        tenant = by_host.get(delivery.local_address)
        if (
            tenant is None
            or delivery.mail_from != tenant.from_address
            or not set(delivery.recipients) <= set(tenant.recipients)
        ):
            wrong += 1
    return wrong


def unmatched_message_ids(deliveries: Iterable[Delivery], database: Recorded) -> int:
    """Emails `sent` in the database whose Message-ID the sink never received for that address."""
    received = {(address, delivery.message_id) for delivery in deliveries for address in delivery.recipients}
    return sum((address, message_id) not in received for address, message_id in database.message_ids.items())


def figures(observed: Observation, options: Options) -> Figures:
    times = times_by_account(observed.deliveries, observed.accounts)
    firsts = [received[0] - observed.measured.t0 for received in times.values() if received]
    between = gaps(times)
    makespan = _max(delivery.received_at for delivery in observed.deliveries) - observed.measured.t0
    expected = {address for tenant in observed.accounts for address in tenant.recipients}
    received = copies(observed.deliveries)
    return Figures(
        accounts=len(observed.accounts),
        makespan_s=makespan,
        ideal_s=options.ideal,
        ratio=makespan / options.ideal if options.ideal else math.nan,
        first_delay_median_s=_median(firsts),
        first_delay_max_s=_max(firsts),
        gap_min_s=_min(between),
        gap_median_s=_median(between),
        db_connections_peak=observed.measured.peak_connections,
        rss_mb_peak=observed.measured.peak_rss / MB,
        cpu_s_per_email=observed.measured.worker_cpu / len(observed.deliveries)
        if observed.deliveries
        else math.nan,
        duplicates=sum(count - 1 for count in received.values() if count > 1),
        lost=len(expected - set(received)),
    )


@dataclass(frozen=True)
class Checks:
    """What else a size must get right, besides its figures."""

    expected: int
    messages: int
    silent_accounts: int
    misrouted: int
    unmatched_message_ids: int


def checks(observed: Observation) -> Checks:
    times = times_by_account(observed.deliveries, observed.accounts)
    return Checks(
        expected=sum(len(tenant.recipients) for tenant in observed.accounts),
        messages=len(observed.deliveries),
        silent_accounts=sum(not received for received in times.values()),
        misrouted=misrouted(observed.deliveries, observed.accounts),
        unmatched_message_ids=unmatched_message_ids(observed.deliveries, observed.database),
    )


def targets(result: Figures, silent_accounts: int, options: Options) -> list[tuple[str, bool]]:
    """Issue 12's targets (set for 1,000 accounts), each with whether this size meets it."""
    interval = options.interval
    return [
        (f"makespan / ideal <= 1.2 (is {result.ratio:.2f})", result.ratio <= 1.2),
        (
            f"every gap >= interval {interval:g} s (smallest {result.gap_min_s:.3f} s)",
            result.gap_min_s >= interval - CLOCK_SLACK,
        ),
        (
            f"median gap <= interval + 0.5 s = {interval + 0.5:g} s (is {result.gap_median_s:.3f} s)",
            result.gap_median_s <= interval + 0.5,
        ),
        (
            f"every account's first email <= DISPATCH_INTERVAL + 2 s = {options.tick + 2:g} s after T0 "
            f"(latest {result.first_delay_max_s:.2f} s, {silent_accounts} accounts got none)",
            result.first_delay_max_s <= options.tick + 2 and not silent_accounts,
        ),
        (
            f"database connections <= 20 (peak {result.db_connections_peak})",
            result.db_connections_peak <= 20,
        ),
        (f"worker RSS <= 500 MB (peak {result.rss_mb_peak:.0f} MB)", result.rss_mb_peak <= 500),
        (f"no email sent twice (duplicates {result.duplicates})", result.duplicates == 0),
        (f"no email lost (lost {result.lost})", result.lost == 0),
    ]


# ----- output ------------------------------------------------------------------------------------------


def plan(options: Options) -> str:
    return (
        f"accounts: {', '.join(f'{size:,}' for size in options.sizes)}; each {options.emails} emails, "
        f"interval {options.interval:g} s, all due at T0 = {LEAD_SECONDS:g} s after worker and beat are "
        f"ready; ideal makespan {options.ideal:g} s; a size gives up at "
        f"T0 + {options.ideal + GRACE_SECONDS:g} s\n"
        "engine: ./start_celery.sh worker + ./start_celery.sh beat, pool and concurrency as the script "
        "sets them; sink: one process, an address per account from 127.0.1.1"
    )


def report(observed: Observation, result: Figures, options: Options) -> None:
    """One size's figures, its checks and its targets, for the person reading them."""
    found = checks(observed)
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(observed.database.statuses.items()))
    print(
        f"\n{result.accounts:,} accounts x {options.emails} emails, interval {options.interval:g} s "
        f"(worker concurrency: {observed.measured.worker_concurrency}):"
    )
    if not observed.measured.finished:
        print(f"  DID NOT FINISH by T0 + {options.ideal + GRACE_SECONDS:g} s: the figures are what it got")
    print(
        f"  sink: {found.messages} messages, {found.expected - result.lost} of {found.expected} addresses "
        f"(lost {result.lost}, duplicates {result.duplicates}, misrouted {found.misrouted}); "
        f"database: {statuses or 'no emails'}; Message-IDs not received as recorded: "
        f"{found.unmatched_message_ids}"
    )
    print(
        f"  makespan {result.makespan_s:.2f} s (ideal {result.ideal_s:g} s, ratio {result.ratio:.2f}); "
        f"first email after T0: median {result.first_delay_median_s:.2f} s, max "
        f"{result.first_delay_max_s:.2f} s"
    )
    print(
        f"  gap between two emails of an account: smallest {result.gap_min_s:.3f} s, median "
        f"{result.gap_median_s:.3f} s"
    )
    print(
        f"  peaks: {result.db_connections_peak} database connections, "
        f"worker RSS {result.rss_mb_peak:.0f} MB; "
        f"worker CPU {result.cpu_s_per_email * 1000:.2f} ms per email; sink CPU "
        f"{observed.measured.sink_cpu:.1f} s in all; load average before the size "
        f"{observed.measured.load_average:.2f}"
    )
    print("  targets (issue 12, set for 1,000 accounts):")
    for text, met in targets(result, found.silent_accounts, options):
        print(f"    {'PASS' if met else 'FAIL'} {text}")
    if not observed.measured.finished or result.lost or result.duplicates or found.misrouted:
        print("  worker log, last lines:\n    " + observed.measured.worker_log.replace("\n", "\n    "))


#: The summary table: for each column, its figure, its heading and its format.
SUMMARY = (
    ("accounts", "accounts", "{:,}"),
    ("makespan_s", "makespan s", "{:.2f}"),
    ("ratio", "ratio", "{:.2f}"),
    ("first_delay_median_s", "1st median s", "{:.2f}"),
    ("first_delay_max_s", "1st max s", "{:.2f}"),
    ("gap_min_s", "gap min s", "{:.3f}"),
    ("gap_median_s", "gap median s", "{:.3f}"),
    ("db_connections_peak", "DB conns", "{}"),
    ("rss_mb_peak", "RSS MB", "{:.0f}"),
    ("cpu_s_per_email", "CPU s/email", "{:.4f}"),
    ("duplicates", "dups", "{}"),
    ("lost", "lost", "{}"),
)


def summary(results: Sequence[Figures]) -> str:
    """Every size's figures, a row each."""
    headings = [heading for _, heading, _ in SUMMARY]
    rows = [[form.format(getattr(result, name)) for name, _, form in SUMMARY] for result in results]
    widths = [max(map(len, column)) for column in zip(headings, *rows, strict=True)]
    lines = [headings, *rows]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)) for line in lines
    )


def main() -> None:
    options = Options.from_env()
    with bench_app(DATABASE, options.engine_settings()) as bench, ExitStack() as stack:
        print(bench.describe())
        print(plan(options))
        db.engine.dispose()  # from here on the benchmark's connections are its own engine's, left out
        engine = sa.create_engine(bench.database_url, connect_args={"application_name": OWN_APPLICATION})
        stack.callback(engine.dispose)
        results = []
        for count in options.sizes:
            observation = run_size(bench, engine, options, count)
            result = figures(observation, options)
            report(observation, result, options)
            results.append(result)
    print("\n" + summary(results))
    print(result_line(results[-1]))


if __name__ == "__main__":
    run(main)
