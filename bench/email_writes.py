"""`python -m bench.email_writes`: what one email's database writes cost, three ways, on PostgreSQL.

One batch's emails (queued, claimed by one run), each written as the batch writes it: the last email's
`sent` and this one's `sending`, then the commit, on one connection, one email after another:
- `sqlalchemy`: the two statements through SQLAlchemy Core's `Connection.execute`, as before;
- `driver, 2 statements`: the same two on the driver's cursor (`app.sending.driver_statements`);
- `driver, 1 statement`: `BatchLedger.begin` given the last email's `Sent`, as the engine writes now.
Per email: wall time, this process's CPU (what the worker would spend), and the PostgreSQL backend's
CPU (read from /proc: the server must run on this machine). Each way runs twice, in turn.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Email
from app.recipient import Recipient
from app.sending.outcomes import MARK_SENT, START_SENDING, BatchEmail, BatchLedger, BatchReport, Sent
from app.states import EmailStatus
from bench.common import NO_PAUSES, bench_app, result_line, run, seed

EMAILS = 2_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

#: One email's writes: the last email's `sent` (if any) and this one's start, on `connection`.
Write = Callable[[sa.Connection, BatchLedger, BatchEmail, Sent | None], None]


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text()
    fields_after_name = fields[fields.rindex(")") + 2 :].split()
    return (int(fields_after_name[11]) + int(fields_after_name[12])) / CLOCK_TICKS


def params(ledger: BatchLedger, email: BatchEmail) -> dict[str, object]:
    return {
        "run_id": ledger.run_id,
        "email_id": email.id,
        "now": clock.utcnow(),
        "new_message_id": f"<{email.id}@b>",
    }


def with_sqlalchemy(
    connection: sa.Connection, ledger: BatchLedger, email: BatchEmail, sent: Sent | None
) -> None:
    if sent is not None:
        connection.execute(MARK_SENT.statement, {"email_id": sent.email_id, "now": sent.at})
    connection.execute(START_SENDING.statement, params(ledger, email))


def with_two_statements(
    connection: sa.Connection, ledger: BatchLedger, email: BatchEmail, sent: Sent | None
) -> None:
    if sent is not None:
        ledger.sent(connection, sent)
    START_SENDING.run(connection, params(ledger, email))


def with_one_statement(
    connection: sa.Connection, ledger: BatchLedger, email: BatchEmail, sent: Sent | None
) -> None:
    ledger.begin(connection, email, f"<{email.id}@b>", sent)


WAYS: dict[str, Write] = {
    "sqlalchemy": with_sqlalchemy,
    "driver, 2 statements": with_two_statements,
    "driver, 1 statement": with_one_statement,
}


def claimed_batch(connection: sa.Connection, ledger: BatchLedger) -> list[BatchEmail]:
    """Every email back to `queued`, claimed by `ledger`'s run."""
    connection.execute(
        sa.update(Email).values(
            status=EmailStatus.QUEUED, batch_id=ledger.run_id, sent_at=None, claimed_at=None, attempts=0
        )
    )
    connection.commit()
    rows = connection.execute(sa.select(Email.id, Email.user_id, Email.campaign_id).order_by(Email.id))
    return [BatchEmail(row.id, row.user_id, row.campaign_id, Recipient("", "", {})) for row in rows]


def measure(engine: sa.Engine, account_id: int, write: Write) -> tuple[float, float, float]:
    """Milliseconds per email: wall, this process's CPU, the backend's CPU."""
    ledger = BatchLedger("bench", account_id, BatchReport())
    with engine.connect() as connection:
        emails = claimed_batch(connection, ledger)
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        connection.commit()
        started, cpu, server = time.perf_counter(), time.process_time(), backend_cpu_seconds(backend)
        sent = None
        for email in emails:
            write(connection, ledger, email, sent)
            connection.commit()
            sent = Sent(email.id, clock.utcnow())
        figures = (
            time.perf_counter() - started,
            time.process_time() - cpu,
            backend_cpu_seconds(backend) - server,
        )
    return tuple(1000 * figure / len(emails) for figure in figures)  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=EMAILS)
    args = parser.parse_args()
    with bench_app("bench_email_writes", NO_PAUSES):
        seeded = seed(db.session, 1, args.emails, "127.0.0.1", 25)
        db.session.remove()
        best: dict[str, tuple[float, float, float]] = {}
        for _ in range(2):
            for name, write in WAYS.items():
                wall, cpu, server = measure(db.engine, seeded.account_ids[0], write)
                print(
                    f"{name:22s} {wall:6.3f} ms wall, {cpu:6.3f} ms CPU here, {server:6.3f} ms PostgreSQL's "
                    f"CPU an email (load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
                figures = (wall, cpu, server)
                best[name] = tuple(map(min, best.get(name, figures), figures))  # type: ignore[assignment]
    print(
        result_line(
            sqlalchemy_cpu_ms=best["sqlalchemy"][1],
            two_statements_cpu_ms=best["driver, 2 statements"][1],
            one_statement_cpu_ms=best["driver, 1 statement"][1],
            sqlalchemy_server_cpu_ms=best["sqlalchemy"][2],
            one_statement_server_cpu_ms=best["driver, 1 statement"][2],
        )
    )


if __name__ == "__main__":
    run(main)
