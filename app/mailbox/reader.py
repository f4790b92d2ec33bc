"""Reading one account's mailbox: every folder it watches, only the messages not read yet.

Each folder's place is its UIDVALIDITY and the last UID read (`MailboxFolder`). Messages are taken in
chunks of `MAILBOX_CHUNK` UIDs: their headers first, then the whole of the few that may be a bounce, a
complaint or a reply; the chunk's findings and the folder's new place commit together, so a reader
killed mid-fetch starts again at the first chunk it had not finished, and never counts one twice.
Memory holds one chunk of headers at a time, whatever the size of the mailbox.

Folders are opened read-only (EXAMINE): nothing is deleted, moved or marked as read. No database
transaction is open while the server is talking. A lease on the account (`reading_until`) keeps two
readers (two workers, two beats) off one mailbox; a read stops at `MAILBOX_READ_TIME_LIMIT` and goes on
from there in the next cycle.
"""

from __future__ import annotations

import imaplib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from imap_tools import BaseMailBox
from imap_tools.errors import ImapToolsError

from app import clock
from app.database import changed_rows
from app.extensions import db
from app.mailbox.classify import classify, is_candidate
from app.mailbox.connection import MailboxFailure, close_quietly, endpoint_for, open_mailbox
from app.mailbox.outcomes import record
from app.models import MailboxAccount, MailboxFolder
from app.smtp_crypto import PasswordUnreadable

log = logging.getLogger(__name__)

#: What a dropped or broken connection raises inside imap-tools and imaplib.
CONNECTION_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError)
#: Whole messages fetched in one command: candidates are few, and each may be large.
BODIES_PER_FETCH = 20


@dataclass(frozen=True)
class ReadSettings:
    chunk: int
    timeout: float
    time_limit: float
    soft_bounce_limit: int
    ca_file: str = ""
    allow_private_hosts: bool = False

    @classmethod
    def from_config(cls, config: Any) -> ReadSettings:
        return cls(
            chunk=config["MAILBOX_CHUNK"],
            timeout=config["MAILBOX_TIMEOUT"],
            time_limit=config["MAILBOX_READ_TIME_LIMIT"],
            soft_bounce_limit=config["MAILBOX_SOFT_BOUNCE_LIMIT"],
            ca_file=config["SMTP_TLS_CA_FILE"],
            allow_private_hosts=config["SMTP_ALLOW_PRIVATE_HOSTS"],
        )


@dataclass
class ReadReport:
    """What one read did: messages looked at, findings recorded, and the error that stopped it."""

    messages: int = 0
    recorded: int = 0
    finished: bool = True
    error: str | None = None
    folders: dict[str, int] = field(default_factory=dict)


def read_mailbox(mailbox_id: int, settings: ReadSettings, decrypt: Callable[[bytes], str]) -> ReadReport:
    """Read the new messages of every folder the mailbox watches, unless another reader holds it."""
    report = ReadReport()
    if not take_lease(mailbox_id, settings.time_limit + settings.timeout * 2):
        report.finished = False
        return report
    mailbox = db.session.get_one(MailboxAccount, mailbox_id)
    try:
        endpoint = endpoint_for(
            mailbox, decrypt, settings.timeout, settings.ca_file, settings.allow_private_hosts
        )
        db.session.commit()  # no transaction across the network wait
        box = open_mailbox(endpoint)
    except (MailboxFailure, PasswordUnreadable) as failure:
        return finish(mailbox, report, str(failure))
    deadline = time.monotonic() + settings.time_limit
    try:
        for folder in mailbox.folder_names():
            read_folder(box, mailbox, folder, settings, deadline, report)
    except MailboxFailure as failure:
        db.session.rollback()
        report.error = str(failure)
    except CONNECTION_ERRORS as error:
        db.session.rollback()
        report.error = (
            f"The connection to {endpoint.host} dropped ({error}); reading goes on from there next time."
        )
    finally:
        close_quietly(box)
    return finish(db.session.get_one(MailboxAccount, mailbox_id), report, report.error)


def read_folder(
    box: BaseMailBox,
    mailbox: MailboxAccount,
    folder: str,
    settings: ReadSettings,
    deadline: float,
    report: ReadReport,
) -> None:
    """Read `folder` from where it was left, chunk by chunk, until its end or the deadline."""
    try:
        status = box.folder.status(folder, ["UIDVALIDITY", "UIDNEXT"])
        box.folder.set(folder, readonly=True)
    except ImapToolsError:
        raise MailboxFailure(f"The folder {folder!r} does not exist in this mailbox.") from None
    place = folder_place(mailbox, folder, status["UIDVALIDITY"], status["UIDNEXT"])
    uidvalidity, start, end = place.uidvalidity, place.last_uid + 1, status["UIDNEXT"] - 1
    db.session.commit()
    while start <= end:
        if time.monotonic() > deadline:
            report.finished = False
            return
        stop = min(start + settings.chunk - 1, end)
        findings = chunk_findings(box, start, stop, report)
        for uid, finding in findings:
            if record(finding, mailbox, folder, uidvalidity, uid, settings.soft_bounce_limit) is not None:
                report.recorded += 1
        place.last_uid = stop
        db.session.commit()
        report.folders[folder] = stop
        start = stop + 1


def folder_place(mailbox: MailboxAccount, folder: str, uidvalidity: int, uidnext: int) -> MailboxFolder:
    """Where reading `folder` goes on. A new UIDVALIDITY means the server renumbered the folder: its old
    UIDs mean nothing now, and re-reading it all would count old bounces again, so only later messages
    are read."""
    place = db.session.scalar(
        sa.select(MailboxFolder).where(MailboxFolder.mailbox_id == mailbox.id, MailboxFolder.name == folder)
    )
    if place is None:
        place = MailboxFolder(mailbox_id=mailbox.id, name=folder, uidvalidity=uidvalidity, last_uid=0)
        db.session.add(place)
    elif place.uidvalidity != uidvalidity:
        log.warning(
            "mailbox %s folder %r has a new UIDVALIDITY: reading from UID %s", mailbox.id, folder, uidnext
        )
        place.uidvalidity, place.last_uid = uidvalidity, uidnext - 1
    return place


def chunk_findings(box: BaseMailBox, start: int, stop: int, report: ReadReport) -> list[tuple[int, Any]]:
    """The findings of the messages with UIDs `start`..`stop`: headers for all, bodies for candidates."""
    uids = box.uids(f"UID {start}:{stop}")
    if not uids:
        return []
    report.messages += len(uids)
    headers = box.fetch(uid_list=uids, headers_only=True, mark_seen=False, bulk=len(uids) + 1)
    candidates = [message.uid for message in headers if message.uid and is_candidate(message.obj)]
    findings = []
    for first in range(0, len(candidates), BODIES_PER_FETCH):
        batch = candidates[first : first + BODIES_PER_FETCH]
        for message in box.fetch(uid_list=batch, mark_seen=False, bulk=len(batch) + 1):
            finding = classify(message.obj)
            if finding is not None and message.uid:
                findings.append((int(message.uid), finding))
    return findings


def take_lease(mailbox_id: int, seconds: float) -> bool:
    """Hold the mailbox for one read; False when another reader holds it."""
    now = clock.utcnow()
    taken = db.session.execute(
        sa.update(MailboxAccount)
        .where(
            MailboxAccount.id == mailbox_id,
            MailboxAccount.enabled.is_(True),
            sa.or_(MailboxAccount.reading_until.is_(None), MailboxAccount.reading_until < now),
        )
        .values(reading_until=now + timedelta(seconds=seconds))
    )
    db.session.commit()
    return changed_rows(taken) == 1


def finish(mailbox: MailboxAccount, report: ReadReport, error: str | None) -> ReadReport:
    mailbox.reading_until = None
    mailbox.last_error = error
    if error is None:
        mailbox.last_read_at = clock.utcnow()
    report.error = error
    db.session.commit()
    return report


def mailboxes_to_read() -> list[int]:
    return list(db.session.scalars(sa.select(MailboxAccount.id).where(MailboxAccount.enabled.is_(True))))
