"""What a sign-up does: ask to join (the public form), confirm (the link), and what a contact's preference
page changes on one list. Nothing here commits: each request commits once.

Who gets a confirmation: an address not yet on the list, unless the owner's suppression list says it
bounced, complained or was suppressed by the owner. Those are sent nothing (a bounced address would
bounce again, a complaint said "spam", and a stranger's form post is no reason to mail either); the
request is kept as refused, so the owner sees it on the list's sign-up page, and the public page says
the same as for anyone else, so a stranger learns nothing about the address. An address that had
unsubscribed is sent one, and confirming subscribes it again: the person asked, twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.audiences.models import Contact, ContactSource, ListMember
from app.audiences.signup.models import ListSignup, SignupRequest, SignupStatus
from app.database import changed_rows
from app.extensions import db
from app.models import SuppressionReason
from app.suppressions.operations import resubscribe, suppression_reason

#: Suppression reasons a sign-up never overrides, with what the owner is told.
REFUSED_BECAUSE = {
    SuppressionReason.BOUNCED: "This address bounced before, so no confirmation was sent.",
    SuppressionReason.COMPLAINED: "This address reported your email as spam, so no confirmation was sent.",
    SuppressionReason.MANUAL: "You suppressed this address, so no confirmation was sent.",
}
REFUSAL_ADVICE = " To let it sign up, take it off your Suppressions page."


def _insert(table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """`INSERT` in the session's dialect, for its `ON CONFLICT`."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def form_of(contact_list_id: int, user_id: int) -> ListSignup:
    """The list's sign-up form, made (off, with its own token) the first time it is asked for."""
    signup = db.session.get(ListSignup, contact_list_id)
    if signup is None:
        signup = ListSignup(list_id=contact_list_id, user_id=user_id)
        db.session.add(signup)
        db.session.flush()
    return signup


def request_signup(
    signup: ListSignup, address: str, name: str, now: datetime, resend_after: timedelta
) -> int | None:
    """Record that `address` asks to join the form's list; returns the request whose confirmation is to
    be sent now, or None when nothing is to be sent (already on the list, refused, or asked within
    `resend_after`)."""
    address = address.lower()
    reason = suppression_reason(signup.user_id, address)
    if reason in REFUSED_BECAUSE:
        refusal = REFUSED_BECAUSE[reason] + REFUSAL_ADVICE
        _write_request(signup, address, name, now, resend_after, SignupStatus.REFUSED, refusal)
        return None
    if reason is None and member_id(signup.user_id, address, signup.list_id) is not None:
        return None
    return _write_request(signup, address, name, now, resend_after, SignupStatus.PENDING, None)


def _write_request(
    signup: ListSignup,
    address: str,
    name: str,
    now: datetime,
    resend_after: timedelta,
    status: str,
    error: str | None,
) -> int | None:
    """One row per address and list, renewed only when the last request is older than `resend_after`
    (an atomic upsert: two posts at once renew it once); returns its id when it was renewed."""
    table = SignupRequest.__table__
    insert = _insert(table).values(
        user_id=signup.user_id,
        list_id=signup.list_id,
        address=address,
        name=name,
        status=status,
        requested_at=now,
        attempts=0,
        last_error=error,
    )
    renewed = {
        "name": insert.excluded.name,
        "status": insert.excluded.status,
        "requested_at": insert.excluded.requested_at,
        "attempts": 0,
        "next_attempt_at": None,
        "claimed_at": None,
        "sent_at": None,
        "last_error": insert.excluded.last_error,
    }
    upsert = insert.on_conflict_do_update(
        index_elements=[table.c.list_id, table.c.address],
        set_=renewed,
        where=sa.and_(table.c.requested_at <= now - resend_after, table.c.status != SignupStatus.SENDING),
    ).returning(table.c.id)
    return db.session.execute(upsert).scalar_one_or_none()


def member_id(user_id: int, address: str, list_id: int) -> int | None:
    """The id of the user's contact of this address if it is on the list."""
    return db.session.scalar(
        sa.select(Contact.id)
        .join(ListMember, ListMember.contact_id == Contact.id)
        .where(
            ListMember.list_id == list_id,
            Contact.user_id == user_id,
            sa.func.lower(Contact.address) == address.lower(),
        )
    )


def confirm(request: SignupRequest, now: datetime) -> None:
    """The link was opened: the address becomes a contact (if new), joins the list, and is subscribed
    again if it had unsubscribed. A bounce or a complaint since stays: only an unsubscribe is undone.
    Confirming twice changes nothing."""
    join_list(request.user_id, request.address, request.list_id, request.name)
    resubscribe(request.user_id, request.address)
    request.status = SignupStatus.CONFIRMED
    request.confirmed_at = request.confirmed_at or now


def join_list(user_id: int, address: str, list_id: int, name: str = "") -> None:
    """Put the user's contact of `address` (made if new) on the list."""
    contact_id = contact_for(user_id, address, name)
    db.session.execute(
        _insert(ListMember.__table__).values(list_id=list_id, contact_id=contact_id).on_conflict_do_nothing()
    )


def leave_list(user_id: int, address: str, list_id: int) -> bool:
    """Take the contact off the list (it stays a contact, on its other lists); returns whether it was."""
    contact_id = member_id(user_id, address, list_id)
    if contact_id is None:
        return False
    removed = db.session.execute(
        sa.delete(ListMember).where(ListMember.list_id == list_id, ListMember.contact_id == contact_id)
    )
    return changed_rows(removed) > 0


def contact_for(user_id: int, address: str, name: str = "") -> int:
    """The id of the user's contact of `address`, made if they have none; a known contact keeps its
    name unless it had none."""
    table = Contact.__table__
    db.session.execute(
        _insert(table)
        .values(user_id=user_id, address=address.lower(), name=name, source=ContactSource.SIGNUP)
        .on_conflict_do_nothing(index_elements=[table.c.user_id, sa.func.lower(table.c.address)])
    )
    contact = db.session.execute(
        sa.select(Contact).where(
            Contact.user_id == user_id, sa.func.lower(Contact.address) == address.lower()
        )
    ).scalar_one()
    if name and not contact.name:
        contact.name = name
    return contact.id
