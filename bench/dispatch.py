"""`make bench-dispatch`: one dispatcher tick with 1,000 and with 1,000,000 pending emails on PostgreSQL.

The tick is `app.sending.dispatcher.dispatch` as beat's task runs it (recover stale claims, complete
finished campaigns, find ready accounts, claim a batch for each), with `ACCOUNTS` accounts that all have
due mail, so every tick makes that many claims, and `IDLE_ACCOUNTS` with none. Its `enqueue` only
records the batches: this measures the database work, which is what could grow with the table; the
broker's cost does not depend on it.

Between two timed ticks the batches are released (emails back to `pending`, accounts free), untimed,
so each tick does the same work. The figures are the median of `TICKS` ticks after one warm-up tick.
Target: ratio (1M / 1k) under 2, i.e. no scan and no Python loop over rows.
"""

from __future__ import annotations

import argparse
import statistics
import time

import sqlalchemy as sa

from app.extensions import db
from app.models import Email, EmailStatus, SMTPSettings
from app.sending.dispatcher import dispatch
from app.sending.settings import EngineSettings
from bench.common import NO_PAUSES, bench_app, empty_tables, result_line, seed

SIZES = (1_000, 1_000_000)
ACCOUNTS = 10
#: Accounts with nothing to send, whose check must not read other accounts' emails either.
IDLE_ACCOUNTS = 2
TICKS = 30
#: The accounts point here, but a tick never connects to a server.
UNUSED_HOST, UNUSED_PORT = "127.0.0.1", 9


def release_batches() -> None:
    """Undo the tick's claims, untimed, so the next tick finds the same work."""
    db.session.execute(
        sa.update(Email)
        .where(Email.batch_id.is_not(None))
        .values(status=EmailStatus.PENDING, batch_id=None, claimed_at=None)
    )
    db.session.execute(sa.update(SMTPSettings).values(batch_id=None, batch_heartbeat_at=None))
    db.session.commit()


def time_ticks(settings: EngineSettings, ticks: int) -> list[float]:
    """Milliseconds per tick; each must claim one full batch per account."""

    def enqueue(batch_id: str, account_id: int, delay: float) -> None:
        """Nothing goes to a broker: the benchmark times the dispatcher's database work."""

    timings = []
    for _ in range(ticks + 1):
        release_batches()
        start = time.perf_counter()
        claims = dispatch(db.session, settings, enqueue)
        timings.append((time.perf_counter() - start) * 1000)
        sizes = [len(claim.email_ids) for claim in claims]
        if sizes != [settings.batch_size] * ACCOUNTS:
            raise AssertionError(f"expected {ACCOUNTS} batches of {settings.batch_size}, claimed {sizes}")
    return timings[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=TICKS, help="timed ticks per size")
    args = parser.parse_args()
    medians = {}
    with bench_app("bench_dispatch", NO_PAUSES) as bench:
        print(bench.describe())
        settings = EngineSettings.from_config(bench.app.config)
        print(
            f"one tick = recover + complete + ready accounts ({ACCOUNTS} busy, {IDLE_ACCOUNTS} idle) "
            f"+ {ACCOUNTS} claims of {settings.batch_size}; median of {args.ticks} ticks"
        )
        for size in SIZES:
            empty_tables()
            start = time.perf_counter()
            seed(ACCOUNTS, size, UNUSED_HOST, UNUSED_PORT, idle_accounts=IDLE_ACCOUNTS)
            loaded = time.perf_counter() - start
            timings = time_ticks(settings, args.ticks)
            medians[size] = statistics.median(timings)
            print(
                f"{size:>9,} pending emails (loaded + VACUUM ANALYZE in {loaded:.1f} s): tick "
                f"median {medians[size]:.2f} ms, min {min(timings):.2f} ms, max {max(timings):.2f} ms"
            )
    small, large = (medians[size] for size in SIZES)
    print(f"ratio 1M / 1k: {large / small:.2f} (target: under 2)")
    print(result_line(tick_1k_ms=small, tick_1m_ms=large, ratio=large / small))


if __name__ == "__main__":
    main()
