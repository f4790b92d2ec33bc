"""`make bench-dispatch`: one dispatcher tick with 1,000 and with 1,000,000 pending emails on PostgreSQL.

The tick is `app.sending.dispatcher.dispatch` as beat's task runs it (recover stale claims, complete
finished campaigns, find ready accounts, claim a batch for each), with `ACCOUNTS` accounts that all have
due mail, so every tick makes that many claims, and `IDLE_ACCOUNTS` with none. Its `enqueue` only
records the batches: this measures the database work, which is what could grow with the table; the
broker's cost does not depend on it.

Each size has a database of its own (copies of the migrated `bench_dispatch`), and the timed ticks
alternate between the two, so that both sizes see the same machine: on a shared machine the load of
the minute would otherwise decide the ratio. Between two ticks on one database its batches are released
(emails back to `pending`, accounts free), untimed, so each tick does the same work. The figures are the
median of `TICKS` ticks per size after one warm-up tick each. Target: ratio (1M / 1k) under 2, i.e. no
scan and no Python loop over rows.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Email, SMTPSettings
from app.sending.dispatcher import dispatch
from app.sending.settings import EngineSettings
from app.states import EmailStatus
from bench.common import NO_PAUSES, bench_app, recreate_database, result_line, run, seed

SIZES = {"1k": 1_000, "1m": 1_000_000}
ACCOUNTS = 10
#: Accounts with nothing to send, whose check must not read other accounts' emails either.
IDLE_ACCOUNTS = 2
TICKS = 30
#: The accounts point here, but a tick never connects to a server.
UNUSED_HOST, UNUSED_PORT = "127.0.0.1", 9


def release_batches(session: Session) -> None:
    """Undo a tick's claims, untimed, so the next tick finds the same work."""
    session.execute(
        sa.update(Email)
        .where(Email.batch_id.is_not(None))
        .values(status=EmailStatus.PENDING, batch_id=None, claimed_at=None)
    )
    session.execute(sa.update(SMTPSettings).values(batch_id=None, batch_heartbeat_at=None))
    session.commit()


def timed_tick(session: Session, settings: EngineSettings) -> float:
    """Milliseconds for one tick, which must claim one full batch per busy account."""

    def enqueue(batch_id: str, account_id: int, delay: float) -> None:
        """Nothing goes to a broker: the benchmark times the dispatcher's database work."""

    release_batches(session)
    start = time.perf_counter()
    claims = dispatch(session, settings, enqueue)
    elapsed = (time.perf_counter() - start) * 1000
    sizes = [len(claim.email_ids) for claim in claims]
    if sizes != [settings.batch_size] * ACCOUNTS:
        raise AssertionError(f"expected {ACCOUNTS} batches of {settings.batch_size}, claimed {sizes}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=TICKS, help="timed ticks per size")
    args = parser.parse_args()
    with bench_app("bench_dispatch", NO_PAUSES) as bench, ExitStack() as stack:
        print(bench.describe())
        settings = EngineSettings.from_config(bench.app.config)
        print(
            f"one tick = recover + complete + ready accounts ({ACCOUNTS} busy, {IDLE_ACCOUNTS} idle) "
            f"+ {ACCOUNTS} claims of {settings.batch_size}; median of {args.ticks} ticks, sizes alternating"
        )
        db.engine.dispose()  # the migrated database is the template of both copies
        sessions = {}
        for label, size in SIZES.items():
            url = recreate_database(f"bench_dispatch_{label}", template="bench_dispatch")
            engine = sa.create_engine(url, **bench.app.config["SQLALCHEMY_ENGINE_OPTIONS"])
            stack.callback(engine.dispose)
            sessions[label] = stack.enter_context(Session(engine))
            start = time.perf_counter()
            seed(sessions[label], ACCOUNTS, size, UNUSED_HOST, UNUSED_PORT, idle_accounts=IDLE_ACCOUNTS)
            loaded = time.perf_counter() - start
            print(f"{size:>9,} pending emails loaded, with VACUUM ANALYZE, in {loaded:.1f} s")

        timings: dict[str, list[float]] = {label: [] for label in SIZES}
        for _ in range(args.ticks + 1):
            for label, session in sessions.items():
                timings[label].append(timed_tick(session, settings))
    medians = {}
    for label, size in SIZES.items():
        ticks = timings[label][1:]
        medians[label] = statistics.median(ticks)
        print(
            f"{size:>9,} pending emails: tick median {medians[label]:.2f} ms, "
            f"min {min(ticks):.2f} ms, max {max(ticks):.2f} ms"
        )
    ratio = medians["1m"] / medians["1k"]
    print(f"ratio 1M / 1k: {ratio:.2f} (target: under 2)")
    print(result_line(tick_1k_ms=medians["1k"], tick_1m_ms=medians["1m"], ratio=ratio))


if __name__ == "__main__":
    run(main)
