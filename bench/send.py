"""`make bench-send`: 5,000 emails through the whole path against a bare loop, in one run.

The whole path: the dispatcher (called here directly, as beat's task calls it, then again every
`DISPATCH_INTERVAL` as beat would) claims a batch and enqueues it on Redis; a real Celery worker
(`tests.processes.start_worker`: threads pool, as `start_celery.sh`) sends it to the sink
and records every outcome in PostgreSQL, and claims its account's next batch at once. Timed from the
first dispatch to the moment the benchmark sees the last email `sent` in the database (polled every
`POLL_SECONDS`).

The bare loop: the same 5,000 rows, read beforehand, built by the same `CampaignTemplate.build` (the
message builder of `app.sending.mime`) and sent by the same `app.sending.connection.send_message`
(asyncio, as the engine) over one connection to the same sink, with no database and no queue. Its rate
is the ceiling; the ratio of the two is the engine's overhead. The same loop with the email package's
builder (`CampaignTemplate.email_message`, what the engine used before issue 17) is the old figure.

The worker's CPU time (its whole process tree, `bench.probes.cpu_seconds`) over the one-worker run,
divided by the emails, is the CPU cost of an email.

The sink runs in a process of its own (`bench.sink`, which says why). After each path run every
address must have arrived at the sink exactly once, and every email must be `sent`.

With `--workers 2` or more (default 2) it also sends the same number of emails spread over as many
accounts with as many worker processes, and prints that rate as an extra figure.

`--server postfix` (`make bench-postfix`) sends everything to a private Postfix on loopback instead of
the sink (`bench.postfix`: the real MTA a relay runs, every message discarded); it needs Postfix
installed, which CI does not.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import Protocol

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import Campaign, Email, SMTPSettings
from app.recipient import Recipient
from app.sending.connection import Endpoint, close_quietly, open_connection, run_sync, send_message
from app.sending.dispatcher import dispatch
from app.sending.message import CampaignTemplate, Sender
from app.sending.settings import EngineSettings
from app.sending.unsubscribe_links import UnsubscribeLinks
from app.states import EmailStatus
from app.tasks import enqueue_batches
from bench.common import NO_PAUSES, Bench, bench_app, empty_tables, result_line, run, seed
from bench.postfix import PostfixServer
from bench.probes import cpu_seconds
from bench.sink import SinkProcess, SinkStats
from tests.processes import CeleryProcess, start_worker

UnsubscribeURL = Callable[[str], str]


class Server(Protocol):
    """Where the benchmark sends: the sink (`bench.sink`) or Postfix (`bench.postfix`)."""

    host: str
    port: int

    def clear(self) -> None: ...
    def stats(self) -> SinkStats: ...


#: What each `--server` is, for the person reading the figures.
SERVERS = {"sink": "aiosmtpd in its own process", "postfix": "Postfix on loopback, discarding"}

EMAILS = 5_000
POLL_SECONDS = 0.1
#: A run that makes no progress for this long has failed (the worker's log tells why).
STALL_SECONDS = 60.0

#: A newsletter of about 6 KB once built (HTML part plus the text part derived from it).
PARAGRAPH = (
    "<p>Dear {{ name }}, this month we have news from every corner of the project: releases, fixes, "
    "and the stories of the people who use it. Your personal code is <b>{{ code }}</b>; keep it "
    "for the offers below, which are valid until the end of the month.</p>"
)
CAMPAIGN = {
    "subject": "News for {{ name }}: your code {{ code }}",
    "html_body": "<h1>Monthly news</h1>" + PARAGRAPH * 10 + '<p><a href="https://example.com/">More</a></p>',
}


def recipients_and_template() -> tuple[list[Recipient], CampaignTemplate, Sender, UnsubscribeURL]:
    """What the batch sender would read for the (single) campaign, read once before timing, and how it
    makes each recipient's unsubscribe link."""
    campaign = db.session.scalars(sa.select(Campaign)).one()
    account = db.session.get_one(SMTPSettings, campaign.smtp_account_id)
    rows = db.session.execute(
        sa.select(Email.address, Email.name, Email.merge_data).order_by(Email.scheduled_at, Email.id)
    ).all()
    db.session.commit()
    recipients = [Recipient(row.address, row.name, row.merge_data or {}) for row in rows]
    template = CampaignTemplate(campaign.subject, campaign.html_body, campaign.text_body, campaign.preheader)
    sender = Sender(account.from_address, account.from_name, account.reply_to)
    links = UnsubscribeLinks.from_config(current_app.config)
    return recipients, template, sender, partial(links.url, campaign.user_id)


#: How the bare loop builds a message's bytes: the engine's builder, or the email package's.
Build = Callable[[CampaignTemplate, Sender, Recipient, str], bytes]


def new_builder(template: CampaignTemplate, sender: Sender, recipient: Recipient, url: str) -> bytes:
    return template.build(sender, recipient, url)


def old_builder(template: CampaignTemplate, sender: Sender, recipient: Recipient, url: str) -> bytes:
    return template.email_message(sender, recipient, url).as_bytes()


def bare_loop(
    sink: Server,
    recipients: list[Recipient],
    template: CampaignTemplate,
    sender: Sender,
    unsubscribe_url: UnsubscribeURL,
    build: Build,
) -> float:
    """Messages a second: build and send each one over a single connection, nothing else."""
    endpoint = Endpoint(sink.host, sink.port, "none", "", "", timeout=30.0, allow_private_hosts=True)
    sink.clear()

    async def send_all() -> None:
        connection = await open_connection(endpoint)
        try:
            for recipient in recipients:
                message = build(template, sender, recipient, unsubscribe_url(recipient.address))
                await send_message(connection, message, sender.address, recipient.address)
        finally:
            await close_quietly(connection)

    start = time.perf_counter()
    run_sync(send_all)
    rate = len(recipients) / (time.perf_counter() - start)
    if sink.stats().received != len(recipients):
        raise AssertionError(f"the sink did not receive the bare loop's {len(recipients)} messages")
    return rate


def sent_count() -> int:
    count = db.session.scalar(sa.select(sa.func.count()).where(Email.status == EmailStatus.SENT))
    db.session.commit()
    return count


def whole_path(settings: EngineSettings, total: int, workers: list[CeleryProcess]) -> float:
    """Messages a second from the first dispatch until all `total` emails are `sent` in the database."""
    start = time.perf_counter()
    dispatch(db.session, settings, enqueue_batches)
    next_tick = start + settings.dispatch_interval
    done, progress_at = 0, start
    while done < total:
        time.sleep(POLL_SECONDS)
        now = time.perf_counter()
        count = sent_count()
        if count > done:
            done, progress_at = count, now
        elif now - progress_at > STALL_SECONDS:
            logs = "\n".join(worker.log[-3000:] for worker in workers)
            raise RuntimeError(f"no progress for {STALL_SECONDS:.0f} s at {done}/{total} sent:\n{logs}")
        if now >= next_tick:
            dispatch(db.session, settings, enqueue_batches)
            next_tick = now + settings.dispatch_interval
    return total / (time.perf_counter() - start)


def check_delivery(sink: Server, total: int) -> None:
    """Every email `sent` in the database and received by the sink exactly once."""
    statuses = dict(db.session.execute(sa.select(Email.status, sa.func.count()).group_by(Email.status)).all())
    db.session.commit()
    stats = sink.stats()
    print(f"  database: {statuses}; sink: {stats.received} messages, {stats.recipients} recipients")
    if stats.duplicates:
        print(f"  DUPLICATES: {stats.duplicates} (e.g. {stats.duplicated})")
    if statuses != {EmailStatus.SENT: total} or stats.received != total or stats.recipients != total:
        raise AssertionError(f"expected {total} emails sent once each")


def ensure_workers(bench: Bench, stack: ExitStack, running: list[CeleryProcess], count: int) -> None:
    """Start workers until `count` run; each is stopped when `stack` closes."""
    while len(running) < count:
        worker = start_worker(bench.process_env(), bench.folder, name=f"worker{len(running) + 1}")
        stack.callback(worker.stop)
        running.append(worker)


def run_path(
    bench: Bench, stack: ExitStack, sink: Server, running: list[CeleryProcess], workers: int, total: int
) -> tuple[float, float]:
    """Seed `total` emails over `workers` accounts and send them with `workers` workers: the rate, and
    the workers' CPU milliseconds per email."""
    empty_tables()
    seed(db.session, workers, total, sink.host, sink.port, CAMPAIGN)
    sink.clear()
    ensure_workers(bench, stack, running, workers)
    cpu_before = sum(cpu_seconds(worker.process.pid) for worker in running)
    rate = whole_path(EngineSettings.from_config(bench.app.config), total, running)
    cpu = sum(cpu_seconds(worker.process.pid) for worker in running) - cpu_before
    check_delivery(sink, total)
    return rate, cpu * 1000 / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=EMAILS)
    parser.add_argument("--workers", type=int, default=2, help="also run with this many workers and accounts")
    parser.add_argument("--server", choices=sorted(SERVERS), default="sink", help="where the emails go")
    args = parser.parse_args()
    total = args.emails
    with bench_app("bench_send", NO_PAUSES) as bench, ExitStack() as stack:
        sink: Server = stack.enter_context(PostfixServer() if args.server == "postfix" else SinkProcess())
        running: list[CeleryProcess] = []
        seed(db.session, 1, total, sink.host, sink.port, CAMPAIGN)
        recipients, template, sender, unsubscribe_url = recipients_and_template()
        size = len(template.build(sender, recipients[0], unsubscribe_url(recipients[0].address)))
        print(bench.describe())
        print(
            f"{total:,} emails of {size:,} bytes; server: {SERVERS[args.server]}, port {sink.port}; "
            "workers: threads pool, one process each"
        )
        old = bare_loop(sink, recipients, template, sender, unsubscribe_url, old_builder)
        print(f"bare loop, email package builder (build + send, one connection):  {old:7.1f} msg/s")
        bare = bare_loop(sink, recipients, template, sender, unsubscribe_url, new_builder)
        print(f"bare loop, engine builder (build + send, one connection):         {bare:7.1f} msg/s")

        path, cpu_ms = run_path(bench, stack, sink, running, 1, total)
        print(
            f"whole path, 1 worker, 1 account:                                 {path:7.1f} msg/s "
            f"({path / bare:.2f} x bare); worker CPU {cpu_ms:.2f} ms per email"
        )
        if args.workers > 1:
            several, several_cpu_ms = run_path(bench, stack, sink, running, args.workers, total)
            print(
                f"whole path, {args.workers} workers, {args.workers} accounts:                               "
                f"{several:7.1f} msg/s ({several / bare:.2f} x bare); "
                f"workers' CPU {several_cpu_ms:.2f} ms per email"
            )
    print(
        f"targets (issue 17): path >= 500 msg/s ({path:.0f}), ratio >= 0.75 ({path / bare:.2f}), "
        f"worker CPU <= 1.5 ms per email ({cpu_ms:.2f})"
    )
    print(
        result_line(
            path_msgs_per_s=path,
            bare_msgs_per_s=bare,
            ratio=path / bare,
            old_bare_msgs_per_s=old,
            cpu_ms_per_email=cpu_ms,
        )
    )


if __name__ == "__main__":
    run(main)
