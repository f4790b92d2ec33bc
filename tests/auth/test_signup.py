import pytest
import sqlalchemy as sa

from app.auth.forms import ALREADY_REGISTERED
from app.extensions import db
from app.models import User
from tests.conftest import post_form

VALID = {
    "username": "asha",
    "email": "Asha@Example.com",
    "password": "s3cret-pass",
    "password2": "s3cret-pass",
    "timezone": "America/New_York",
}


def test_signup_creates_account_logs_in_and_keeps_time_zone(client):
    """Can I sign up and land on my dashboard?"""
    response = post_form(client, "/signup", VALID, follow_redirects=True)
    assert response.status_code == 200
    assert "Hello, asha" in response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User))
    assert user.email == "asha@example.com"
    assert user.timezone == "America/New_York"
    assert user.password_hash != VALID["password"]
    assert user.check_password(VALID["password"])


def test_signup_time_zone_defaults_to_india(client):
    page = client.get("/signup").get_data(as_text=True)
    assert '<option selected value="Asia/Kolkata">' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short", "password2": "short"}, "Use at least 10 characters."),
        ({"password": "password1234", "password2": "password1234"}, "This password is too easy to guess."),
        ({"password2": "different-pass"}, "The passwords differ."),
        ({"email": "not-an-address"}, "Invalid email address."),
        ({"username": ""}, "This field is required."),
        ({"username": "no spaces"}, "Use letters, digits, dots, dashes and underscores only."),
    ],
)
def test_signup_refuses_bad_input_with_a_clear_message(client, changes, message):
    response = post_form(client, "/signup", {**VALID, **changes})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_taken_username_is_refused(client, make_user):
    make_user("Asha")
    response = post_form(client, "/signup", VALID)
    assert ALREADY_REGISTERED in response.get_data(as_text=True)


def test_taken_email_is_refused_whatever_its_case(client, make_user):
    make_user("someone", email="asha@example.com")
    response = post_form(client, "/signup", VALID)
    assert ALREADY_REGISTERED in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client):
    """A form posted from another site is refused, and nothing is created."""
    response = client.post("/signup", data=VALID)
    assert response.status_code == 400
    assert "The form had expired or was not sent by this site" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_password_is_hashed_with_strong_scrypt(app):
    from werkzeug.security import generate_password_hash

    assert app.config["PASSWORD_HASH_METHOD"] != "scrypt:131072:8:1"  # tests use a fast hash
    from config import Config

    assert Config.PASSWORD_HASH_METHOD == "scrypt:131072:8:1"
    assert generate_password_hash("x", method=Config.PASSWORD_HASH_METHOD).startswith("scrypt:131072:8:1$")
