"""The reader against a real IMAP server (Dovecot on loopback): what reaches the sender's mailbox after
a campaign has finished changes its emails within one read cycle, and is never counted twice."""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from app.models import Email, MailboxEvent, Suppression
from app.states import EmailStatus
from tests.mailbox.conftest import make_mailbox, sent_campaign
from tests.mailbox.corpus import samples

REPLY = (
    "From: Reader <{address}>\r\nTo: sender@example.com\r\nSubject: Re: Spring sale\r\n"
    "In-Reply-To: {message_id}\r\nMessage-ID: <reply-{n}@rcpt.example>\r\n\r\n"
    "Count me in for two.\r\n\r\n> Dear reader\r\n"
)


def dsn(address: str, message_id: str, status: str = "5.1.1", reply: str = "550 5.1.1 User unknown") -> bytes:
    return (
        (
            "From: Mail Delivery System <MAILER-DAEMON@mx.sender.example>\r\nTo: sender@example.com\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{0}@mx.sender.example>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
            "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.sender.example\r\n\r\n"
            f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; {reply}\r\n"
            "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: {message_id}\r\nTo: {address}\r\nSubject: Spring sale\r\n--b--\r\n"
        )
        .format(abs(hash((address, status))))
        .encode()
    )


def email_to(address: str) -> Email:
    return db.session.scalar(db.select(Email).where(Email.address == address))


def suppressed(user_id: int) -> dict[str, str]:
    rows = db.session.scalars(db.select(Suppression).where(Suppression.user_id == user_id))
    return {row.address: row.reason for row in rows}


def test_a_bounce_after_the_campaign_finished_suppresses_the_address_within_one_read_cycle(
    dovecot, make_user, read_cycle
):
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    sent_campaign(
        mailbox, ["gone@rcpt.example", "fine@rcpt.example"], ["<a.1@sender.example>", "<b.1@sender.example>"]
    )
    dovecot.deliver(dsn("gone@rcpt.example", "<a.1@sender.example>"))

    report = read_cycle(mailbox)

    assert report.error is None
    assert report.recorded == 1
    bounced = email_to("gone@rcpt.example")
    assert bounced.status == EmailStatus.BOUNCED
    assert (bounced.last_smtp_code, bounced.last_smtp_message) == (550, "5.1.1 550 5.1.1 User unknown")
    assert email_to("fine@rcpt.example").status == EmailStatus.SENT
    assert suppressed(user.id) == {"gone@rcpt.example": "bounced"}


def test_a_soft_bounce_is_counted_and_suppresses_only_at_the_limit(dovecot, make_user, read_cycle, app):
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    limit = app.config["MAILBOX_SOFT_BOUNCE_LIMIT"]
    for round_ in range(limit):
        sent_campaign(mailbox, ["full@rcpt.example"], [f"<full.{round_}@sender.example>"])
        dovecot.deliver(
            dsn("full@rcpt.example", f"<full.{round_}@sender.example>", "5.2.2", "552 5.2.2 Mailbox full")
        )
        read_cycle(mailbox)
        assert ("full@rcpt.example" in suppressed(user.id)) == (round_ == limit - 1)


def test_a_reply_marks_its_email_replied_with_its_first_lines_and_an_auto_reply_changes_nothing(
    dovecot, make_user, read_cycle
):
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    sent_campaign(
        mailbox, ["fan@rcpt.example", "away@rcpt.example"], ["<f.1@sender.example>", "<w.1@sender.example>"]
    )
    dovecot.deliver(REPLY.format(address="fan@rcpt.example", message_id="<f.1@sender.example>", n=1).encode())
    auto = REPLY.format(address="away@rcpt.example", message_id="<w.1@sender.example>", n=2)
    dovecot.deliver(
        ("Auto-Submitted: auto-replied\r\n" + auto.replace("Re: Spring sale", "Out of office")).encode()
    )

    read_cycle(mailbox)

    assert email_to("fan@rcpt.example").status == EmailStatus.REPLIED
    assert email_to("away@rcpt.example").status == EmailStatus.SENT
    events = {event.kind: event for event in db.session.scalars(db.select(MailboxEvent))}
    assert events["reply"].detail == "Count me in for two."
    assert events["auto_reply"].address == "away@rcpt.example"
    assert suppressed(user.id) == {}


def test_a_second_cycle_reads_only_new_messages_and_changes_nothing_twice(dovecot, make_user, read_cycle):
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    sent_campaign(
        mailbox, ["gone@rcpt.example", "late@rcpt.example"], ["<g@sender.example>", "<l@sender.example>"]
    )
    dovecot.deliver(dsn("gone@rcpt.example", "<g@sender.example>"))
    assert read_cycle(mailbox).messages == 1
    dovecot.deliver(dsn("late@rcpt.example", "<l@sender.example>"))

    second = read_cycle(mailbox)

    assert (second.messages, second.recorded) == (1, 1)
    assert read_cycle(mailbox).messages == 0
    assert db.session.scalar(db.select(db.func.count(MailboxEvent.id))) == 2


def test_the_reader_never_marks_moves_or_deletes_anything(dovecot, make_user, read_cycle):
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    sent_campaign(mailbox, ["gone@rcpt.example"], ["<g@sender.example>"])
    delivered = dovecot.deliver(dsn("gone@rcpt.example", "<g@sender.example>"))
    read_cycle(mailbox)
    # Still unseen, still where the server put it: in new/ (an IMAP session that saw it would move it to cur/
    # only if it took it as read-write; EXAMINE leaves it).
    remaining = list((dovecot.maildir / "new").iterdir()) + list((dovecot.maildir / "cur").iterdir())
    assert [path.name.split(":")[0] for path in remaining] == [delivered.name]
    assert all(":2,S" not in path.name and "T" not in path.name.partition(":2,")[2] for path in remaining)


def test_every_corpus_message_is_matched_to_its_email_through_the_real_server(dovecot, make_user, read_cycle):
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    matchable = [sample for sample in samples() if sample.address]
    sent_campaign(
        mailbox,
        [sample.address for sample in matchable],
        [sample.message_id or f"<unnamed.{index}@sender.example>" for index, sample in enumerate(matchable)],
    )
    for sample in samples():
        dovecot.deliver(sample.raw)

    report = read_cycle(mailbox)

    assert report.error is None
    events = db.session.scalars(db.select(MailboxEvent)).all()
    assert sorted((event.kind, event.address) for event in events) == sorted(
        (sample.kind, sample.address) for sample in matchable
    )
    by_message_id = {db.session.get(Email, event.email_id).message_id: event for event in events}
    for sample in matchable:
        if sample.message_id:
            assert by_message_id[sample.message_id].kind == sample.kind, sample.name
    final = {
        "bounce": EmailStatus.BOUNCED,
        "complaint": EmailStatus.COMPLAINED,
        "auto_reply": EmailStatus.SENT,
    }
    for event in events:
        if event.kind != "auto_reply":
            assert db.session.get(Email, event.email_id).status == final[event.kind]


def test_a_wrong_password_is_reported_on_the_account_not_raised(dovecot, make_user, read_cycle):
    from app.smtp_crypto import encrypt_password

    user = make_user()
    mailbox = make_mailbox(user, dovecot, password_encrypted=encrypt_password("not it"))
    report = read_cycle(mailbox)
    assert report.error is not None
    assert "refused the login" in report.error
    assert db.session.get(type(mailbox), mailbox.id).last_error == report.error


@pytest.mark.parametrize("folder", ["Bounces"])
def test_a_watched_folder_other_than_the_inbox_is_read(dovecot, make_user, read_cycle, folder):
    user = make_user()
    mailbox = make_mailbox(user, dovecot, folders=f"INBOX\n{folder}")
    sent_campaign(mailbox, ["gone@rcpt.example"], ["<g@sender.example>"])
    dovecot.make_folder(folder)
    dovecot.deliver(dsn("gone@rcpt.example", "<g@sender.example>"), folder=folder)
    assert read_cycle(mailbox).recorded == 1


def test_beats_mailbox_task_hands_every_enabled_mailbox_to_the_readers_and_returns_at_once(
    dovecot, make_user, app
):
    from app.tasks import read_mailboxes, stop_sending

    assert (
        app.extensions["celery"].conf.beat_schedule["mailboxes"]["schedule"]
        == app.config["MAILBOX_READ_INTERVAL"]
    )
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    make_mailbox(make_user(), dovecot, enabled=False)
    sent_campaign(mailbox, ["gone@rcpt.example"], ["<g@sender.example>"])
    dovecot.deliver(dsn("gone@rcpt.example", "<g@sender.example>"))
    try:
        assert read_mailboxes() == 1
        deadline = time.monotonic() + 30
        while email_to("gone@rcpt.example").status != EmailStatus.BOUNCED and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.1)
        assert email_to("gone@rcpt.example").status == EmailStatus.BOUNCED
    finally:
        stop_sending()


def test_a_mailbox_that_never_answers_holds_neither_beats_task_nor_anyone_elses_read(
    dovecot, make_user, app, read_cycle
):
    import socket

    from app.tasks import read_mailboxes, stop_sending

    app.config["MAILBOX_TIMEOUT"] = 1.0
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        stuck = make_mailbox(make_user(), dovecot, port=silent.getsockname()[1])
        healthy = make_mailbox(make_user(), dovecot)
        sent_campaign(healthy, ["gone@rcpt.example"], ["<g@sender.example>"])
        dovecot.deliver(dsn("gone@rcpt.example", "<g@sender.example>"))
        try:
            started = time.monotonic()
            assert read_mailboxes() == 2
            assert time.monotonic() - started < 1.0, "the task only hands the mailboxes over"
            deadline = time.monotonic() + 30
            while email_to("gone@rcpt.example").status != EmailStatus.BOUNCED and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.1)
            assert email_to("gone@rcpt.example").status == EmailStatus.BOUNCED
            while db.session.get(type(stuck), stuck.id).last_error is None and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.1)
            assert "No answer from 127.0.0.1" in db.session.get(type(stuck), stuck.id).last_error
        finally:
            stop_sending()


def test_a_message_from_a_recipient_answering_something_else_is_no_reply_to_the_campaign(
    dovecot, make_user, read_cycle
):
    user = make_user()
    mailbox = make_mailbox(user, dovecot)
    sent_campaign(mailbox, ["colleague@rcpt.example"], ["<c@sender.example>"])
    other_thread = REPLY.format(address="colleague@rcpt.example", message_id="<lunch@elsewhere.example>", n=3)
    dovecot.deliver(other_thread.encode())
    assert read_cycle(mailbox).recorded == 0
    assert email_to("colleague@rcpt.example").status == EmailStatus.SENT
