"""Sessions that end: a copied cookie dies at log-out and at a password change, remembered log-ins
expire, and nothing from before a log-in (the CSRF secret) carries over into it."""

from __future__ import annotations

import time
from types import SimpleNamespace

import itsdangerous.timed
import pytest
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, AuthActions, csrf_token_from, post_form

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")

NEW_PASSWORD = "a whole new passphrase"


def copy_of(app, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s cookies (a stolen or copied cookie)."""
    thief = app.test_client()
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def log_in(client: FlaskClient, remember: bool = False) -> None:
    remember_me = {"remember": "y"} if remember else {}
    assert (
        post_form(client, "/login", {"identifier": "asha", "password": PASSWORD, **remember_me}).status_code
        == 302
    )


def logged_in_page(client: FlaskClient) -> bool:
    return client.get("/settings/").status_code == 200


@pytest.mark.parametrize("remember", [False, True], ids=["session", "remembered"])
def test_a_cookie_copied_before_logout_is_refused_after_it(app, client, auth, make_user, remember):
    make_user("asha")
    log_in(client, remember=remember)
    thief = copy_of(app, client)
    assert logged_in_page(thief), "the copy works while the session lasts"

    auth.logout()
    assert not logged_in_page(client)
    assert not logged_in_page(thief)


def test_logout_ends_the_sessions_on_other_devices_too(app, make_user):
    make_user("asha")
    laptop, phone = AuthActions(app.test_client()), AuthActions(app.test_client())
    laptop.login("asha")
    phone.login("asha")
    laptop.logout()
    assert not logged_in_page(phone.client)


def test_a_password_change_ends_every_other_session_but_this_one(app, client, auth, make_user):
    make_user("asha")
    auth.login("asha")
    other = AuthActions(app.test_client())
    other.login("asha")
    thief = copy_of(app, client)

    response = post_form(
        client,
        "/settings/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert "Every other browser and device has been logged out." in response.get_data(as_text=True)
    assert logged_in_page(client)
    assert not logged_in_page(other.client)
    assert not logged_in_page(thief)

    assert AuthActions(app.test_client()).login("asha", PASSWORD).status_code == 200  # refused
    assert AuthActions(app.test_client()).login("asha", NEW_PASSWORD).status_code == 302


@pytest.fixture
def sign_cookies_days_ago(monkeypatch):
    """Cookies signed from now on carry a timestamp `days` in the past (Flask's signer reads this clock)."""

    def shift(days: float) -> None:
        monkeypatch.setattr(
            itsdangerous.timed, "time", SimpleNamespace(time=lambda: time.time() - days * 86400)
        )

    return shift


def test_a_remembered_log_in_expires_after_remember_me_days(app, client, make_user, sign_cookies_days_ago):
    make_user("asha")
    days = app.config["REMEMBER_ME_DAYS"]
    sign_cookies_days_ago(days + 1)
    log_in(client, remember=True)
    sign_cookies_days_ago(0)
    assert not logged_in_page(client)


def test_a_remembered_log_in_lasts_while_it_is_used(app, client, make_user, sign_cookies_days_ago):
    make_user("asha")
    sign_cookies_days_ago(app.config["REMEMBER_ME_DAYS"] - 1)
    log_in(client, remember=True)
    sign_cookies_days_ago(0)
    assert logged_in_page(client)


def test_the_csrf_secret_is_renewed_at_login(client, make_user):
    """A CSRF token obtained before the log-in (say, by whoever planted the session cookie) is
    worthless after it."""
    make_user("asha")
    planted = csrf_token_from(client.get("/login"))
    with client.session_transaction() as session:
        secret_before = session["csrf_token"]
    client.post("/login", data={"csrf_token": planted, "identifier": "asha", "password": PASSWORD})
    assert logged_in_page(client)
    with client.session_transaction() as session:
        assert session.get("csrf_token") != secret_before

    response = client.post("/settings/", data={"csrf_token": planted, "timezone": "Europe/Paris"})
    assert response.status_code == 400


def test_a_forged_cookie_without_the_users_session_token_opens_nothing(app, client, make_user):
    """Even someone holding SECRET_KEY cannot make a session for a user out of the user id alone."""
    user = make_user("asha")
    serializer = app.session_interface.get_signing_serializer(app)
    for forged in (str(user.id), f"{user.id}:{'A' * 32}", f"{user.id}:"):
        client.set_cookie("session", serializer.dumps({"_user_id": forged, "_fresh": True}))
        assert not logged_in_page(client), forged
