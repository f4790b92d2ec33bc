import pytest

from tests.conftest import PASSWORD, post_form


@pytest.mark.parametrize("identifier", ["asha", "ASHA", "asha@example.com", "Asha@Example.COM"])
def test_login_by_username_or_email(client, auth, make_user, identifier):
    make_user("asha")
    response = auth.login(identifier)
    assert response.status_code == 302
    assert response.location == "/"
    assert "Hello, asha" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, auth, make_user):
    make_user("asha")
    response = auth.login("asha", "wrong password")
    assert response.status_code == 200
    assert "Wrong username, email or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(client, auth, logged_in):
    assert client.get("/").status_code == 200
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_logout_needs_a_post(client, logged_in):
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_remember_me_sets_a_lasting_http_only_cookie(client, make_user):
    make_user("asha")
    response = post_form(client, "/login", {"identifier": "asha", "password": PASSWORD, "remember": "y"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie


def test_without_remember_me_the_cookie_ends_with_the_browser(client, make_user):
    make_user("asha")
    response = post_form(client, "/login", {"identifier": "asha", "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" not in cookie


def test_session_cookie_is_http_only_and_same_site_lax(client, make_user):
    make_user("asha")
    response = post_form(client, "/login", {"identifier": "asha", "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_next_redirect_stays_on_this_site(client, auth, make_user):
    make_user("asha")
    response = auth.login("asha", query_string={"next": "/campaigns/"})
    assert response.location == "/campaigns/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\r\nSet-Cookie: session=planted",
        "/campaigns/\nLocation: https://evil.example/",
        "/a\x00b",
        "/a b",
        "campaigns/",
    ],
)
def test_open_redirect_next_is_refused(client, auth, make_user, target):
    make_user("asha")
    response = auth.login("asha", query_string={"next": target})
    assert response.location == "/"


def test_failed_logins_are_throttled_per_account(client, auth, make_user):
    """After five wrong passwords in a minute the account's log-in is paused, with a clear page."""
    make_user("asha")
    for _ in range(5):
        assert auth.login("asha", "wrong").status_code == 200
    response = auth.login("asha")
    assert response.status_code == 429
    assert "You have tried too often" in response.get_data(as_text=True)


def test_throttling_counts_the_account_however_it_is_typed(client, auth, make_user):
    make_user("asha")
    for identifier in ["asha", "ASHA", " asha ", "Asha", "asha"]:
        auth.login(identifier, "wrong")
    assert auth.login("asha").status_code == 429


def test_throttling_one_account_leaves_others_alone(client, auth, make_user):
    make_user("asha")
    make_user("ben")
    for _ in range(5):
        auth.login("asha", "wrong")
    assert auth.login("ben").status_code == 302


def test_failed_logins_are_throttled_per_address(client, auth, make_user, app):
    app.config["LOGIN_RATE_LIMIT_PER_IP"] = "3 per minute"
    make_user("asha")
    for name in ["a", "b", "c"]:
        auth.login(name, "wrong")
    assert auth.login("asha").status_code == 429


def test_successful_logins_are_not_counted(client, auth, make_user):
    make_user("asha")
    for _ in range(7):
        assert auth.login("asha").status_code == 302
        auth.logout()


@pytest.mark.parametrize("identifier", ["asha\x00", "as\r\nha"])
def test_control_characters_in_the_identifier_get_a_clear_message(client, auth, make_user, identifier):
    make_user("asha")
    response = auth.login(identifier)
    assert response.status_code == 200
    assert "without line breaks or control characters" in response.get_data(as_text=True)
