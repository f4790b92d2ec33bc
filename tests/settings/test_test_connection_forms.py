"""Does “Test connection” keep what I typed, with or without JavaScript, so that “Save” works next?"""

from tests.settings.conftest import SMTP_PASSWORD, accounts

LOGIN = "asha@example.com"


def test_the_page_script_gets_the_outcome_as_json_and_nothing_is_saved(
    client, logged_in, submit_smtp, make_smtp_sink
):
    sink = make_smtp_sink(username=LOGIN, password=SMTP_PASSWORD)
    response = submit_smtp(
        url="/settings/smtp/test.json", host=sink.host, port=str(sink.port), security="none"
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["ok"] is True
    assert answer["message"] == (
        f"Connected to 127.0.0.1:{sink.port} and logged in as {LOGIN}. The server said: 250 localhost"
    )
    assert answer["errors"] == {}
    assert answer["warnings"] == ["Without TLS, your login and password cross the network unencrypted."]
    assert accounts() == [], "testing saves nothing"


def test_a_refused_server_is_a_failed_outcome_in_json(client, logged_in, submit_smtp, make_smtp_sink):
    sink = make_smtp_sink(username=LOGIN, password=SMTP_PASSWORD)
    response = submit_smtp(
        url="/settings/smtp/test.json", host=sink.host, port=str(sink.port), security="none", password="wrong"
    )
    answer = response.get_json()
    assert answer["ok"] is False
    assert answer["message"].startswith(
        f"Authentication failed at 127.0.0.1:{sink.port}: 535 5.7.8 Authentication failed — "
    )
    assert "app password" in answer["message"], "the reply is followed by what to do"


def test_fields_to_correct_come_back_by_name_in_json(client, logged_in, submit_smtp):
    response = submit_smtp(url="/settings/smtp/test.json", port="0", from_address="not an address")
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["ok"] is False
    assert answer["message"] == "Nothing was tested: please correct the fields marked below."
    assert answer["errors"]["port"] == ["Enter a port between 1 and 65535."]
    assert set(answer["errors"]) == {"port", "from_address"}


def test_the_json_test_needs_the_csrf_token(client, logged_in):
    response = client.post("/settings/smtp/test.json", data={"host": "smtp.example.com"})
    assert response.status_code == 400


def test_without_javascript_the_tested_form_comes_back_with_the_typed_password(
    client, logged_in, submit_smtp
):
    response = submit_smtp(url="/settings/smtp/test", host="127.0.0.1", port="1", preset="gmail")
    page = response.get_data(as_text=True)
    assert f'value="{SMTP_PASSWORD}"' in page
    assert '<option selected value="gmail">' in page
    assert response.headers["Cache-Control"] == "no-store", "the password must not be kept in a cache"


def test_a_saved_password_never_comes_back_from_a_test(client, logged_in, submit_smtp, make_smtp_sink):
    sink = make_smtp_sink(username=LOGIN, password=SMTP_PASSWORD)
    submit_smtp(host=sink.host, port=str(sink.port), security="none")
    for url in ("/settings/smtp/test", "/settings/smtp/test.json"):
        response = submit_smtp(url=url, host=sink.host, port=str(sink.port), security="none", password="")
        assert SMTP_PASSWORD not in response.get_data(as_text=True)
        assert "logged in as" in response.get_data(as_text=True)


def test_save_right_after_a_test_without_javascript_keeps_the_password(client, logged_in, submit_smtp):
    tested = submit_smtp(url="/settings/smtp/test", host="127.0.0.1", port="1", password="typed-once-42")
    assert 'value="typed-once-42"' in tested.get_data(as_text=True)
    assert submit_smtp(host="127.0.0.1", port="1", password="typed-once-42").status_code == 302
    assert accounts()[0].password_encrypted is not None
