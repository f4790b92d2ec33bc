"""The confirmation email goes out from a real worker process, as in production: the web request only
enqueues it (filesystem broker with SQLite, Redis with PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audiences.signup.models import SignupRequest, SignupStatus
from app.extensions import db
from tests.audiences.conftest import make_list
from tests.audiences.signup_helpers import open_signup
from tests.builders import make_account

pytestmark = pytest.mark.processes

ADDRESS = "reader@rcpt.example"


def status() -> str | None:
    return db.session.scalar(sa.select(SignupRequest.status))


def test_a_worker_sends_the_confirmation_the_web_request_enqueued(app, stack, make_user, smtp_sink):
    owner = make_user("kiran")
    token = open_signup(make_list(owner), make_account(owner, smtp_sink)).token
    db.session.commit()  # the worker shares the database: no transaction of ours stays open
    stack.worker()
    response = app.test_client(use_cookies=False).post(f"/subscribe/{token}", data={"email": ADDRESS})
    assert response.status_code == 200
    stack.wait_for(lambda: status() == SignupStatus.SENT, 60, "the confirmation sent by the worker")
    assert [message.rcpt_tos for message in smtp_sink.messages] == [(ADDRESS,)], stack.logs
