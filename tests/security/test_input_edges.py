"""Does odd input get a clear answer (a 404, a form message), never a 500?

Issue 13 found 500s for page numbers beyond bigint, `?shown=²` ('²'.isdigit() is True), ids over 2^63
on SQLite, `hourly_cap=99999999999`, and NUL bytes in log-in, names, bodies and searches (PostgreSQL
refuses a NUL in a text value). Every route with an id and every form is tried here.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from app.bounds import INTEGER_MAX, IdConverter, page_number, record_id, record_ids, whole_number
from app.extensions import db
from app.forms import SINGLE_LINE_MESSAGE, TEXT_MESSAGE
from app.models import Campaign, SMTPSettings, Suppression, Template, User
from tests.builders import add_draft
from tests.conftest import PASSWORD, csrf_token_from, post_form
from tests.settings.conftest import VALID_SMTP

HUGE_IDS = [str(INTEGER_MAX + 1), str(2**63), str(2**64), "9" * 30, "1" + "0" * 5000]
ODD_NUMBERS = ["²", "٣", "-1", "1e3", " 1", "0x10", *HUGE_IDS]
CONTROL_CHARACTERS = ["\x00", "\x01", "\x1b", "\x7f"]


@pytest.fixture
def campaign(logged_in: User) -> Campaign:
    return add_draft(logged_in, subject="Hi", html_body="<p>Hi</p>")


def id_routes(app: Flask) -> list[tuple[str, str]]:
    """Every route that takes an id in its URL: (rule with the id replaced by {}, method)."""
    routes = []
    for rule in app.url_map.iter_rules():
        ids = [name for name, converter in rule._converters.items() if isinstance(converter, IdConverter)]
        if not ids:
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        pattern = rule.rule
        for name in ids:
            pattern = pattern.replace(f"<int:{name}>", "{}")
        pattern = pattern.replace("<token>", "t" * 32)
        routes.append((pattern, method))
    return routes


def test_every_id_route_is_bounded(app):
    """The `int` converter of every route is ours: no route is left with Flask's unbounded one."""
    assert len(id_routes(app)) == sum("<int:" in rule.rule for rule in app.url_map.iter_rules()) > 20


@pytest.mark.parametrize("number", [*HUGE_IDS, "²"])
def test_an_id_out_of_range_in_any_url_is_a_404(app, client, logged_in, campaign, number):
    token = csrf_token_from(client.get("/campaigns/new"))
    for pattern, method in id_routes(app):
        url = pattern.format(*[number] * pattern.count("{}"))
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 404, f"{method} {url[:80]}: {response.status_code}"
        assert "There is nothing here" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/campaigns/", "/campaigns/templates/", "/suppressions/", "/campaigns/{id}/recipients"]
)
@pytest.mark.parametrize("number", ODD_NUMBERS)
def test_a_page_number_out_of_range_shows_the_first_page(client, campaign, path, number):
    response = client.get(path.format(id=campaign.id), query_string={"page": number})
    assert response.status_code == 200


@pytest.mark.parametrize("number", ODD_NUMBERS)
def test_ids_in_query_strings_out_of_range_are_ignored(client, campaign, number):
    for url, name in [
        (f"/campaigns/{campaign.id}", "recipient"),
        ("/campaigns/new", "template"),
        (f"/campaigns/{campaign.id}/report", "after"),
        (f"/campaigns/{campaign.id}/report", "before"),
        ("/dashboard/stats", "shown"),
    ]:
        response = client.get(url, query_string={name: number})
        assert response.status_code == 200, f"{url}?{name}={number[:20]}: {response.status_code}"


def test_the_dashboard_keeps_the_valid_ids_it_is_shown(client, campaign):
    shown = ",".join(["²", str(campaign.id), str(2**64), "abc"])
    response = client.get("/dashboard/stats", query_string={"shown": shown})
    assert response.status_code == 200
    assert str(campaign.id) in response.get_json()["campaigns"]


def test_a_test_email_with_an_odd_recipient_id_goes_to_the_first_recipient(client, campaign):
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/send-test",
        {"recipient": str(2**64), "to": "me@example.com"},
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("42", 42), ("007", 7), (str(INTEGER_MAX), INTEGER_MAX)],
)
def test_whole_numbers_in_range_are_read(text, expected):
    assert whole_number(text) == expected


@pytest.mark.parametrize("text", [*ODD_NUMBERS, "", "0"])
def test_odd_ids_and_pages_are_refused(text):
    with pytest.raises(ValueError, match=r"^not a whole number from "):
        record_id(text)
    with pytest.raises(ValueError, match=r"^not a whole number from "):
        page_number(text)


def test_record_ids_keeps_only_the_valid_ones():
    assert record_ids(["3", "²", "", str(2**63), "12"]) == [3, 12]


# ----- numeric settings ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["hourly_cap", "daily_cap"])
@pytest.mark.parametrize("value", ["99999999999", str(INTEGER_MAX + 1), str(2**63)])
def test_a_cap_beyond_its_column_is_a_form_message(client, logged_in, field, value):
    response = post_form(client, "/settings/smtp", {**VALID_SMTP, field: value})
    assert response.status_code == 200
    assert f"Use a whole number from 1 to {INTEGER_MAX:,}." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SMTPSettings)) == 0


def test_the_largest_cap_is_saved(client, logged_in):
    response = post_form(client, "/settings/smtp", {**VALID_SMTP, "hourly_cap": str(INTEGER_MAX)})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(SMTPSettings.hourly_cap)) == INTEGER_MAX


@pytest.mark.parametrize("field", ["port", "send_interval", "batch_size"])
@pytest.mark.parametrize("value", ["99999999999", "nan", "inf", "-inf", "1e400"])
def test_other_numbers_beyond_their_range_are_form_messages(client, logged_in, field, value):
    response = post_form(client, "/settings/smtp", {**VALID_SMTP, field: value})
    assert response.status_code == 200
    assert "was not saved" in response.get_data(as_text=True)


# ----- control characters in every form --------------------------------------------------------------


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_log_in_with_a_control_character_is_refused(client, make_user, character):
    user = make_user("asha")
    for data in (
        {"identifier": f"asha{character}"},
        {"identifier": "asha", "password": PASSWORD + character},
    ):
        response = post_form(client, "/login", {"identifier": user.username, "password": PASSWORD, **data})
        assert response.status_code == 200
        assert SINGLE_LINE_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_sign_up_with_a_nul_is_refused(client, field):
    data = {
        "username": "asha",
        "email": "asha@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
        "timezone": "Asia/Kolkata",
    }
    data[field] = data[field][:2] + "\x00" + data[field][2:]
    if field == "password":
        data["password2"] = data["password"]
    response = post_form(client, "/signup", data)
    assert response.status_code == 200
    assert SINGLE_LINE_MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
@pytest.mark.parametrize("field", ["name", "subject", "html_body", "text_body"])
def test_a_campaign_with_a_control_character_is_refused(client, logged_in, field, character):
    data = {
        "name": "Spring sale",
        "subject": "Hi",
        "html_body": "<p>Hi</p>",
        "text_body": "Hi",
        "text_edited": "y",
    }
    data[field] += character
    response = post_form(client, "/campaigns/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert (TEXT_MESSAGE if field.endswith("body") else SINGLE_LINE_MESSAGE) in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_a_body_keeps_its_tabs_and_line_breaks(client, logged_in):
    data = {"name": "Spring sale", "subject": "Hi", "html_body": "<p>\tHi\r\nthere</p>\n"}
    assert post_form(client, "/campaigns/new", data).status_code == 302
    assert db.session.scalar(sa.select(Campaign.html_body)).startswith("<p>\tHi")


def test_a_template_name_with_a_nul_is_refused(client, logged_in, campaign):
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/save-as-template",
        {"name": "Spring\x00"},
    )
    assert response.status_code in (200, 302)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Template)) == 0
    response = post_form(client, "/campaigns/templates/new", {"name": "Spring\x00", "html_body": "<p>Hi</p>"})
    assert SINGLE_LINE_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["host", "from_name", "username", "password", "from_address"])
def test_an_smtp_account_with_a_nul_is_refused(client, logged_in, field):
    response = post_form(client, "/settings/smtp", {**VALID_SMTP, field: VALID_SMTP[field] + "\x00x"})
    assert response.status_code == 200
    assert SINGLE_LINE_MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SMTPSettings)) == 0


def test_suppressions_and_pasted_recipients_with_a_nul_are_refused(client, logged_in, campaign):
    response = post_form(client, "/suppressions/add", {"addresses": "a@example.com\x00"})
    assert TEXT_MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0
    recipients = f"/campaigns/{campaign.id}/recipients"
    response = post_form(client, f"{recipients}/paste", {"addresses": "a@example.com\x00"})
    assert TEXT_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/suppressions/", "/campaigns/{id}/recipients", "/campaigns/{id}/report"])
def test_a_search_with_a_nul_is_ignored_with_a_message(client, campaign, path):
    url = path.format(id=campaign.id)
    response = client.get(url, query_string={"q": "asha\x00"})
    assert response.status_code == 200
    assert f"The search was ignored: {SINGLE_LINE_MESSAGE}" in response.get_data(as_text=True)
    for export in ("report.csv", "report.xlsx"):
        with client.get(f"/campaigns/{campaign.id}/{export}", query_string={"q": "\x00"}) as exported:
            assert exported.status_code == 200


@pytest.mark.parametrize(
    ("day", "zone"), [("9999-12-31", "America/Los_Angeles"), ("0001-01-01", "Asia/Kolkata")]
)
def test_a_date_at_the_end_of_the_calendar_is_a_form_message(client, campaign, day, zone):
    data = {"when": "later", "send_date": day, "send_time": "23:59" if day.startswith("9") else "00:00"}
    response = post_form(client, f"/campaigns/{campaign.id}/schedule", {**data, "timezone": zone})
    assert response.status_code == 200
    assert "is outside the dates that can be stored." in response.get_data(as_text=True)
