"""What a finding does to its email and to the suppression list.

- a bounce: the email becomes `bounced` with the status and diagnostic; a hard one suppresses the
  address, a soft one is counted and suppresses once the address has bounced softly
  `MAILBOX_SOFT_BOUNCE_LIMIT` times;
- a complaint: `complained`, and the address is suppressed;
- an auto-reply: noted, nothing else;
- a reply: `replied`, its first lines kept for the report.

Every finding about one of our emails is kept as a `MailboxEvent`, unique by where it was read, so a
message read twice (a reader killed before its chunk committed) changes nothing the second time.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.mailbox.classify import Finding
from app.mailbox.matching import matching_email
from app.models import Email, MailboxAccount, MailboxEvent, MailboxEventKind, SuppressionReason
from app.states import MAILBOX_MAY_CHANGE, EmailStatus
from app.suppression_list import suppress

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
NEW_STATUS = {
    MailboxEventKind.BOUNCE: EmailStatus.BOUNCED,
    MailboxEventKind.COMPLAINT: EmailStatus.COMPLAINED,
    MailboxEventKind.REPLY: EmailStatus.REPLIED,
}


def already_recorded(mailbox: MailboxAccount, folder: str, uidvalidity: int, uid: int) -> bool:
    return (
        db.session.scalar(
            sa.select(MailboxEvent.id).where(
                MailboxEvent.mailbox_id == mailbox.id,
                MailboxEvent.folder == folder,
                MailboxEvent.uidvalidity == uidvalidity,
                MailboxEvent.uid == uid,
            )
        )
        is not None
    )


def record(
    finding: Finding, mailbox: MailboxAccount, folder: str, uidvalidity: int, uid: int, soft_limit: int
) -> MailboxEvent | None:
    """Apply `finding` (read at `uid` of `folder`) to its email; None when it is about none of ours."""
    account = mailbox.smtp_account
    email = matching_email(finding, account.user_id, account.id)
    if email is None or already_recorded(mailbox, folder, uidvalidity, uid):
        return None
    address = email.address.lower()
    detail = storable(finding.detail)
    event = MailboxEvent(
        user_id=account.user_id,
        mailbox_id=mailbox.id,
        folder=folder,
        uidvalidity=uidvalidity,
        uid=uid,
        email_id=email.id,
        kind=finding.kind,
        address=address,
        status_code=finding.status_code,
        hard=finding.hard,
        detail=detail,
    )
    db.session.add(event)
    change_status(email, finding, detail)
    db.session.flush()
    if finding.kind == MailboxEventKind.COMPLAINT:
        suppress(account.user_id, [address], SuppressionReason.COMPLAINED)
    elif finding.kind == MailboxEventKind.BOUNCE and (
        finding.hard or soft_bounces(account.user_id, address) >= soft_limit
    ):
        suppress(account.user_id, [address], SuppressionReason.BOUNCED)
    return event


def storable(text: str) -> str:
    """`text` without the control characters some bounces carry (PostgreSQL refuses a NUL in text)."""
    return CONTROL_CHARACTERS.sub(" ", text).strip()


def change_status(email: Email, finding: Finding, detail: str) -> None:
    """A sent or replied email takes the finding's status; a bounce or complaint is final. A complaint
    after a reply still counts: the person later marked it as spam."""
    status = NEW_STATUS.get(finding.kind)
    if status is None or email.status not in MAILBOX_MAY_CHANGE:
        return
    if status == EmailStatus.REPLIED and email.status == EmailStatus.REPLIED:
        return
    email.status = status
    if finding.kind == MailboxEventKind.BOUNCE:
        email.last_smtp_code = finding.smtp_code
        email.last_smtp_message = detail
        email.permanent_failure = finding.hard


def soft_bounces(user_id: int, address: str) -> int:
    """How many soft bounces the user's mailbox has seen for `address`, across campaigns."""
    return db.session.execute(
        sa.select(sa.func.count(MailboxEvent.id)).where(
            MailboxEvent.user_id == user_id,
            MailboxEvent.address == address,
            MailboxEvent.kind == MailboxEventKind.BOUNCE,
            MailboxEvent.hard.is_(False),
        )
    ).scalar_one()
