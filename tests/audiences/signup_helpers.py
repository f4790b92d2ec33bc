"""Sign-up test helpers: an owner's list with its form on, posts from a stranger's browser, the
confirmation email's link as the sink received it."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import clock
from app.audiences.models import Contact, ContactList, ListMember
from app.audiences.signup.confirmations import due_requests
from app.audiences.signup.models import ListSignup, SignupRequest
from app.extensions import db
from app.models import SMTPSettings
from app.sending.settings import EngineSettings
from app.tasks import send_signup_confirmation
from tests.smtp_sink import ReceivedMessage, SMTPSink

_LINK = re.compile(r"https?://\S+/subscribe/confirm/\S+")


def open_signup(contact_list: ContactList, account: SMTPSettings | None) -> ListSignup:
    signup = ListSignup(
        list_id=contact_list.id,
        user_id=contact_list.user_id,
        enabled=True,
        smtp_account_id=account.id if account else None,
    )
    db.session.add(signup)
    db.session.commit()
    return signup


def sign_up(client: FlaskClient, signup: ListSignup, email: str, **fields: Any) -> TestResponse:
    """A post of the snippet or the hosted form: no cookie, no CSRF token."""
    return client.post(f"/subscribe/{signup.token}", data={"email": email, "name": "", **fields})


def send_due() -> list[str]:
    """What a worker does: the sweep's due confirmations, each sent by the task (run here, inline)."""
    settings = EngineSettings.from_config(current_app.config)
    return [send_signup_confirmation(request_id) for request_id in due_requests(settings, clock.utcnow())]


def confirmation_path(message: ReceivedMessage) -> str:
    body = message.message.get_body(("plain",))
    assert body is not None
    match = _LINK.search(body.get_content())
    assert match, "the confirmation email has no link"
    return "/subscribe/confirm/" + match.group(0).rsplit("/subscribe/confirm/", 1)[1]


def members(contact_list: ContactList | int) -> list[str]:
    list_id = contact_list if isinstance(contact_list, int) else contact_list.id
    db.session.expire_all()
    return sorted(
        db.session.scalars(
            sa.select(Contact.address)
            .join(ListMember, ListMember.contact_id == Contact.id)
            .where(ListMember.list_id == list_id)
        )
    )


def request_of(address: str) -> SignupRequest:
    db.session.expire_all()
    return db.session.execute(sa.select(SignupRequest).where(SignupRequest.address == address)).scalar_one()


def received(sink: SMTPSink) -> list[str]:
    return [recipient for message in sink.messages for recipient in message.rcpt_tos]
