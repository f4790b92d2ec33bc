"""Can I configure my SMTP account on the settings page, with clear messages for every mistake?"""

import pytest

from app.smtp_crypto import decrypt_password
from tests.settings.conftest import SMTP_PASSWORD, VALID_SMTP, accounts, saved_password


def test_settings_page_has_the_smtp_form_and_the_time_zone_form(client, logged_in):
    page = client.get("/settings/").get_data(as_text=True)
    for label in ("SMTP host", "Port", "Security", "Login", "Password", "From address", "From name"):
        assert f">{label}</label>" in page
    assert "Reply-To address" in page
    assert "Time zone" in page


def test_first_save_creates_the_account_with_every_field(client, logged_in, submit_smtp):
    """Can I save my provider's settings?"""
    response = submit_smtp(
        reply_to="replies@example.com",
        send_interval="2.5",
        batch_size="40",
        hourly_cap="100",
        daily_cap="900",
    )
    assert response.status_code == 302
    assert "SMTP account saved." in client.get("/settings/").get_data(as_text=True)
    [account] = accounts()
    assert account.user_id == logged_in.id
    assert (account.host, account.port, account.security) == ("smtp.example.com", 587, "starttls")
    assert (account.username, account.from_address) == ("asha@example.com", "asha@example.com")
    assert (account.from_name, account.reply_to) == ("Asha from Spice Co", "replies@example.com")
    assert (account.send_interval, account.batch_size, account.hourly_cap, account.daily_cap) == (
        2.5,
        40,
        100,
        900,
    )
    assert decrypt_password(account.password_encrypted) == SMTP_PASSWORD


def test_second_save_edits_the_same_account_and_blank_limits_mean_the_defaults(
    client, logged_in, submit_smtp
):
    submit_smtp(batch_size="40", daily_cap="900")
    submit_smtp(password="", from_name="Spice Co", batch_size="", daily_cap="")
    [account] = accounts()
    assert account.from_name == "Spice Co"
    assert account.batch_size is None
    assert account.daily_cap is None


def test_blank_password_on_edit_keeps_the_saved_one(client, logged_in, submit_smtp):
    submit_smtp()
    submit_smtp(password="", port="2525")
    [account] = accounts()
    assert account.port == 2525
    assert decrypt_password(account.password_encrypted) == SMTP_PASSWORD


def test_a_new_password_replaces_the_saved_one(client, logged_in, submit_smtp):
    submit_smtp()
    submit_smtp(password="new-secret-99")
    assert saved_password() == "new-secret-99"


@pytest.mark.parametrize("changed", [{"host": "smtp.other.example"}, {"username": "other@example.com"}])
def test_saved_password_is_not_reused_for_another_server_or_login(client, logged_in, submit_smtp, changed):
    """Nobody can send my saved password to a server of their choosing without typing it."""
    submit_smtp()
    response = submit_smtp(password="", **changed)
    assert "Enter the password again: the host, security or login has changed." in response.get_data(
        as_text=True
    )
    assert accounts()[0].host == "smtp.example.com"


def test_no_login_means_no_password_is_stored(client, logged_in, submit_smtp):
    submit_smtp(username="", password="", security="none", port="25")
    assert accounts()[0].password_encrypted is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"port": "0"}, "Enter a port between 1 and 65535."),
        ({"port": "65536"}, "Enter a port between 1 and 65535."),
        ({"port": "smtp"}, "Enter a port between 1 and 65535."),
        ({"host": ""}, "This field is required."),
        ({"host": "smtp.example.com:587"}, "Enter a host name such as smtp.example.com or an IP address."),
        (
            {"host": "https://smtp.example.com"},
            "Enter a host name such as smtp.example.com or an IP address.",
        ),
        ({"host": "smtp example.com"}, "Enter a host name such as smtp.example.com or an IP address."),
        ({"host": "-bad-.example.com"}, "Enter a host name such as smtp.example.com or an IP address."),
        ({"from_address": "not-an-address"}, "Invalid email address."),
        (
            {"from_address": "asha@example.com\r\nBcc: victim@example.com"},
            "Use a single line without line breaks",
        ),
        ({"reply_to": "nobody@"}, "Invalid email address."),
        ({"from_name": "Asha\r\nBcc: victim@example.com"}, "Use a single line without line breaks"),
        ({"username": "asha\nRSET"}, "Use a single line without line breaks"),
        ({"password": ""}, "Enter the password for this login."),
        ({"security": "plaintext"}, "Not a valid choice."),
        ({"send_interval": "-1"}, "Use 0 to 3600 seconds."),
        ({"batch_size": "0"}, "Use 1 to 1000 emails."),
        ({"hourly_cap": "0"}, "Use a whole number from 1 to 2,147,483,647."),
        ({"daily_cap": "lots"}, "Not a valid integer value."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(client, logged_in, submit_smtp, changes, message):
    response = submit_smtp(**changes)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "The SMTP account was not saved" in page
    assert accounts() == []


@pytest.mark.parametrize("host", ["192.0.2.10", "2001:db8::25", "mail-relay.internal", "localhost"])
def test_host_may_be_a_name_or_an_ip_address(client, logged_in, submit_smtp, host):
    assert submit_smtp(host=host).status_code == 302
    assert accounts()[0].host == host


def test_surrounding_spaces_are_trimmed(client, logged_in, submit_smtp):
    submit_smtp(host="  smtp.example.com ", from_name="  Asha  ")
    account = accounts()[0]
    assert (account.host, account.from_name) == ("smtp.example.com", "Asha")


@pytest.mark.parametrize(
    ("port", "security", "warning"),
    [
        ("465", "starttls", "Port 465 usually uses SSL/TLS, not STARTTLS."),
        ("587", "ssl", "Port 587 usually uses STARTTLS, not SSL/TLS."),
        ("587", "none", "Without TLS, your login and password cross the network unencrypted."),
    ],
)
def test_unusual_security_for_the_port_is_saved_with_a_warning(
    client, logged_in, submit_smtp, port, security, warning
):
    """Some providers do odd things: warn me, but let me save."""
    response = submit_smtp(port=port, security=security)
    assert response.status_code == 302
    assert warning in client.get("/settings/").get_data(as_text=True)
    assert accounts()[0].security == security


def test_usual_pairs_get_no_warning(client, logged_in, submit_smtp):
    submit_smtp(port="465", security="ssl")
    assert "usually uses" not in client.get("/settings/").get_data(as_text=True)


def test_saved_values_are_shown_again_but_never_the_password(client, logged_in, submit_smtp):
    submit_smtp(hourly_cap="120")
    page = client.get("/settings/").get_data(as_text=True)
    assert 'value="smtp.example.com"' in page
    assert 'value="120"' in page
    assert "A password is saved. Leave this blank to keep it." in page
    assert SMTP_PASSWORD not in page


def test_limits_show_the_global_defaults(app, client, logged_in):
    app.config.update(SEND_INTERVAL=12.5, BATCH_SIZE=30)
    page = client.get("/settings/").get_data(as_text=True)
    assert "Default: 12.5 s (SEND_INTERVAL)." in page
    assert "Default: 30 emails per connection (BATCH_SIZE)." in page
    assert "Default: no daily cap." in page


def test_time_zone_form_still_works_beside_the_smtp_form(client, logged_in):
    from tests.conftest import post_form

    response = post_form(client, "/settings/", {"timezone": "Europe/Paris"}, follow_redirects=True)
    assert "Times are now shown in Europe/Paris." in response.get_data(as_text=True)
    assert logged_in.timezone == "Europe/Paris"


def test_smtp_posts_without_the_csrf_token_are_refused(client, logged_in):
    for url in ("/settings/smtp", "/settings/smtp/test", "/settings/smtp/send-test", "/settings/smtp/resume"):
        response = client.post(url, data=VALID_SMTP)
        assert response.status_code == 400, url
        assert "The form had expired" in response.get_data(as_text=True)
