"""The preference page beside the unsubscribe page: a recipient leaves the list an email came from,
stops every email, or subscribes again. No login: the signed token of the email's unsubscribe link is
the proof. Unlike the one-click POST, this page's forms are a person's, in their browser: they carry
CSRF tokens. A token that names a list (`Link.list_id`) offers that list; one that does not offers
"everything" only.

Subscribing again lifts only an unsubscribe the person made; a bounce, a complaint or the sender's own
suppression stays, and the page says to ask the sender.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template, request

from app.audiences.models import ContactList, status_of
from app.audiences.signup.operations import join_list, leave_list, member_id
from app.extensions import db
from app.forms import EmptyForm
from app.models import SuppressionReason
from app.sending.unsubscribe_links import Link, UnsubscribeLinks
from app.suppression_list import suppress
from app.suppressions.operations import resubscribe, suppression_reason
from app.unsubscribe import bp
from app.unsubscribe.routes import page_for

LEAVE, EVERYTHING, RESUBSCRIBE, JOIN = "leave", "everything", "resubscribe", "join"


def list_of(link: Link) -> ContactList | None:
    """The list the link names, if it is still its user's."""
    if link.list_id is None:
        return None
    return db.session.scalar(
        sa.select(ContactList).where(ContactList.id == link.list_id, ContactList.user_id == link.user_id)
    )


def change(link: Link, contact_list: ContactList | None, action: str) -> str:
    """Do what the person pressed; returns what the page tells them."""
    reason = suppression_reason(link.user_id, link.address)
    if action == LEAVE and contact_list is not None:
        leave_list(link.user_id, link.address, contact_list.id)
        return f"You left {contact_list.name}."
    if action == EVERYTHING:
        suppress(link.user_id, [link.address], SuppressionReason.UNSUBSCRIBED)
        return "You are unsubscribed from every email of this sender."
    if action == RESUBSCRIBE and reason == SuppressionReason.UNSUBSCRIBED:
        resubscribe(link.user_id, link.address)
        if contact_list is not None:
            join_list(link.user_id, link.address, contact_list.id)
        return "You are subscribed again."
    if action == JOIN and contact_list is not None and reason is None:
        join_list(link.user_id, link.address, contact_list.id)
        return f"You joined {contact_list.name} again."
    return "Nothing changed."


@bp.route("/<token>/preferences", methods=["GET", "POST"])
def preferences(token: str) -> str | tuple[str, int]:
    """What the address gets from this sender, and the buttons that change it."""
    link = UnsubscribeLinks.from_config(current_app.config).read(token)
    page: dict[str, Any] | None = page_for(link) if link else None
    if link is None or page is None:
        return render_template("unsubscribe/invalid.html"), 400
    if link.test:
        return render_template("unsubscribe/test_link.html", **page)
    contact_list = list_of(link)
    form = EmptyForm()
    done = None
    if form.validate_on_submit():
        done = change(link, contact_list, request.form.get("action", ""))
        db.session.commit()
    reason = suppression_reason(link.user_id, link.address)
    on_list = contact_list is not None and member_id(link.user_id, link.address, contact_list.id) is not None
    return render_template(
        "unsubscribe/preferences.html",
        form=form,
        token=token,
        done=done,
        contact_list=contact_list,
        on_list=on_list,
        status=status_of(reason),
        reason=reason,
        **page,
    )
