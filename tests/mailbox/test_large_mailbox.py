"""A mailbox of 100,000 messages is read incrementally in bounded memory, and a reader killed in the
middle of it resumes where its last chunk committed without counting any bounce twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Email, MailboxAccount, MailboxEvent, MailboxFolder
from app.states import EmailStatus
from tests.mailbox.conftest import make_mailbox, sent_campaign
from tests.mailbox.test_reader import dsn

#: A reader in a process of its own, killed and started again, over a mailbox that takes minutes to fill.
pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 100_000
BOUNCES = 200
CHUNK = 1_000
#: How much a reader's resident memory may grow over the whole mailbox (one chunk of headers is about
#: 1 MB; the app alone, imported, is about 180 MB).
GROWTH_MB = 40

NEWSLETTER = (
    "From: News <news@shop.example>\r\nTo: sender@example.com\r\nSubject: This week's offers no. {0}\r\n"
    "Message-ID: <news-{0}@shop.example>\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\n\r\n"
    + "Offers of the week, and a long line of text to give the message some body. " * 20
    + "\r\n"
)


def fill(server, bounce_ids: list[str]) -> None:
    """100,000 messages written straight into the maildir, newsletters with the bounces spread among
    them, in `cur/` where the server keeps what it has already announced (a session that may not change
    the folder would otherwise look through all of `new/` again at every command)."""
    every = MESSAGES // len(bounce_ids)
    cur = server.maildir / "cur"
    for n in range(MESSAGES):
        if n % every == every - 1:
            index = n // every
            body = dsn(f"r{index:05d}@rcpt.example", bounce_ids[index])
        else:
            body = NEWSLETTER.format(n).encode()
        (cur / f"{1700000000 + n}.M{n}P1.test:2,").write_bytes(body)


def reader(app, mailbox_id: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SMTP_ENCRYPTION_KEY": app.config["SMTP_ENCRYPTION_KEY"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "MAILBOX_CHUNK": str(CHUNK),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.mailbox.reader_process", str(mailbox_id)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def last_uid(mailbox_id: int) -> int:
    """The folder's committed place; the read transaction ends at once (on SQLite it would hold the
    reader's commits off)."""
    db.session.rollback()
    place = db.session.scalar(db.select(MailboxFolder.last_uid).where(MailboxFolder.mailbox_id == mailbox_id))
    db.session.rollback()
    return place or 0


def test_a_reader_killed_mid_fetch_of_100000_messages_resumes_in_bounded_memory_counting_each_bounce_once(
    dovecot, make_user, app
):
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    campaign = sent_campaign(mailbox, [f"r{i:05d}@rcpt.example" for i in range(BOUNCES)])
    mailbox_id, campaign_id = mailbox.id, campaign.id
    ids = list(
        db.session.scalars(campaign.emails.select().with_only_columns(Email.message_id).order_by(Email.id))
    )
    started = time.monotonic()
    fill(dovecot, ids)
    filled = time.monotonic() - started

    first = reader(app, mailbox_id)
    deadline = time.monotonic() + 600
    while not 0 < last_uid(mailbox_id) < MESSAGES // 2 and time.monotonic() < deadline:
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    first.kill()
    first.communicate()
    killed_at = last_uid(mailbox_id)
    # The killed reader's lease runs out before the next cycle's reader comes.
    db.session.execute(db.update(MailboxAccount).values(reading_until=None))
    db.session.commit()
    first_read = time.monotonic() - started - filled
    assert 0 < killed_at < MESSAGES

    started = time.monotonic()
    second = reader(app, mailbox_id)
    output, errors = second.communicate(timeout=900)
    resumed = time.monotonic() - started
    assert second.returncode == 0, errors
    report = json.loads(output)
    print(
        f"filled in {filled:.1f} s; killed at UID {killed_at} after {first_read:.1f} s; resumed in {resumed:.1f} s: {report}"
    )

    assert report["error"] is None
    assert report["messages"] == MESSAGES - killed_at, f"the second reader resumes there: {report}"
    assert report["peak_mb"] - report["baseline_mb"] < GROWTH_MB
    assert report["rss_after_mb"] - report["rss_before_mb"] < GROWTH_MB
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(MailboxEvent.id))) == BOUNCES
    statuses = set(db.session.scalars(db.select(Email.status).where(Email.campaign_id == campaign_id)))
    assert statuses == {EmailStatus.BOUNCED}
    assert last_uid(mailbox_id) == MESSAGES
