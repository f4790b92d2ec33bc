"""Can I change my password from the settings, and is a mistake explained?"""

import pytest

from tests.conftest import PASSWORD, post_form

NEW = "a whole new passphrase"


def change(client, current=PASSWORD, new=NEW, again=None, **kwargs):
    data = {"current_password": current, "password": new, "password2": new if again is None else again}
    return post_form(client, "/settings/password", data, **kwargs)


def test_the_settings_page_links_to_the_password_change(client, logged_in):
    page = client.get("/settings/").get_data(as_text=True)
    assert 'href="/settings/password"' in page
    assert client.get("/settings/password").status_code == 200


def test_changing_the_password_keeps_me_logged_in_with_the_new_one(client, auth, logged_in):
    response = change(client, follow_redirects=True)
    assert "Your password is changed." in response.get_data(as_text=True)
    assert client.get("/settings/").status_code == 200
    auth.logout()
    assert auth.login(logged_in.username, PASSWORD).status_code == 200
    assert auth.login(logged_in.username, NEW).status_code == 302


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"current": "not my password"}, "That is not your current password."),
        ({"again": "something else entirely"}, "The passwords differ."),
        ({"new": "short"}, "Use at least 10 characters."),
        ({"new": "password1234"}, "This password is too easy to guess."),
        ({"new": "user1@example.com"}, "This password is too easy to guess."),
    ],
)
def test_a_refused_change_says_why_and_keeps_the_old_password(client, auth, logged_in, changes, message):
    response = change(client, **changes)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    auth.logout()
    assert auth.login(logged_in.username, PASSWORD).status_code == 302


def test_guessing_the_current_password_uses_the_log_in_budget(client, logged_in):
    for _ in range(5):
        assert change(client, current="guess").status_code == 200
    assert change(client).status_code == 429


def test_the_password_change_needs_a_log_in(client):
    response = client.get("/settings/password")
    assert response.status_code == 302
    assert response.location.startswith("/login")
