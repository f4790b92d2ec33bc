"""Is my SMTP password safe: encrypted at rest, never sent back, and still manageable when keys change?"""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import request_finished

from app.extensions import db
from app.smtp_crypto import decrypt_password
from tests.conftest import post_form
from tests.settings.conftest import SMTP_PASSWORD, accounts, saved_password

OLD_KEY, NEW_KEY, OTHER_KEY = (Fernet.generate_key().decode() for _ in range(3))
RE_ENTER = "please re-enter your SMTP password"


@pytest.fixture
def response_bodies(app) -> Iterator[list[bytes]]:
    """Every response body the app sends during the test."""
    bodies: list[bytes] = []

    def record(sender, response, **extra):
        bodies.append(response.get_data())

    request_finished.connect(record, app)
    yield bodies
    request_finished.disconnect(record, app)


def raw_password_column() -> bytes:
    raw = db.session.execute(sa.text("SELECT password_encrypted FROM smtp_settings")).scalar_one()
    return bytes(raw)


def test_password_is_encrypted_in_the_database(client, logged_in, submit_smtp):
    submit_smtp()
    raw = raw_password_column()
    assert SMTP_PASSWORD.encode() not in raw
    assert raw.startswith(b"gAAAAA")  # a Fernet token
    assert saved_password() == SMTP_PASSWORD


def test_password_never_appears_in_any_response(client, logged_in, submit_smtp, response_bodies):
    """Whatever I do on the page, my password never comes back to the browser. (One exception, by
    design: a test without JavaScript shows back the password just typed, see test_test_connection_forms.)"""
    submit_smtp(port="0")  # refused: the page is shown again with what I typed
    submit_smtp(host="127.0.0.1", port="1")  # nothing listens there: the test email fails on loopback
    client.get("/settings/")
    submit_smtp(url="/settings/smtp/test.json", host="127.0.0.1", port="1")
    submit_smtp(url="/settings/smtp/test", host="127.0.0.1", port="1", password="")
    post_form(client, "/settings/smtp/send-test", {})
    post_form(client, "/settings/smtp/resume", {}, follow_redirects=True)
    submit_smtp(password="", from_name="Again", follow_redirects=True)
    assert len(response_bodies) >= 9  # every one of the nine actions was answered and looked at
    for body in response_bodies:
        assert SMTP_PASSWORD.encode() not in body


def test_a_wrong_key_asks_to_re_enter_the_password_instead_of_crashing(app, client, logged_in, submit_smtp):
    app.config["SMTP_ENCRYPTION_KEY"] = OLD_KEY
    submit_smtp()
    app.config["SMTP_ENCRYPTION_KEY"] = OTHER_KEY

    page = client.get("/settings/")
    assert page.status_code == 200
    assert RE_ENTER in page.get_data(as_text=True)

    sent = post_form(client, "/settings/smtp/send-test", {}, follow_redirects=True)
    assert sent.status_code == 200
    assert RE_ENTER in sent.get_data(as_text=True)

    tested = submit_smtp(url="/settings/smtp/test", password="")
    assert tested.status_code == 200
    assert RE_ENTER in tested.get_data(as_text=True)

    kept = submit_smtp(password="", from_name="Changed")
    assert kept.status_code == 200
    assert RE_ENTER in kept.get_data(as_text=True)

    assert submit_smtp(password="typed-again-1").status_code == 302
    assert saved_password() == "typed-again-1"


def rotate(app):
    return app.test_cli_runner().invoke(args=["rotate-smtp-key"])


def test_rotate_smtp_key_re_encrypts_every_row_with_the_new_key(app, client, make_user, auth, submit_smtp):
    app.config["SMTP_ENCRYPTION_KEY"] = OLD_KEY
    for name in ("asha", "ravi"):
        auth.login(make_user(name).username)
        submit_smtp(password=f"{name}-secret")
        auth.logout()
    before = [account.password_encrypted for account in accounts()]

    app.config["SMTP_ENCRYPTION_KEY"] = f"{NEW_KEY},{OLD_KEY}"
    result = rotate(app)
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2 SMTP password(s) with the newest key." in result.output

    app.config["SMTP_ENCRYPTION_KEY"] = NEW_KEY  # the old key is gone
    rotated = accounts()
    assert [decrypt_password(account.password_encrypted) for account in rotated] == [
        "asha-secret",
        "ravi-secret",
    ]
    assert all(account.password_encrypted not in before for account in rotated)


def test_rotate_smtp_key_reports_passwords_no_key_can_read(app, client, logged_in, submit_smtp):
    app.config["SMTP_ENCRYPTION_KEY"] = OTHER_KEY
    submit_smtp()
    app.config["SMTP_ENCRYPTION_KEY"] = NEW_KEY
    result = rotate(app)
    assert result.exit_code == 0
    assert "Re-encrypted 0 SMTP password(s)" in result.output
    assert "1 password(s) could not be read with any configured key" in result.output
    assert "must re-enter them on the Settings page" in result.output
