"""Can a user compose a campaign, with its plain-text part derived or their own, and keep templates?"""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Template
from app.sending.message import HTML_FOOTER
from tests.builders import make_campaign, reload
from tests.conftest import post_form

VALID = {"name": "Spring sale", "subject": "Hello {{ name }}", "html_body": "<p>Hi <b>{{ name }}</b></p>"}


def compose(client, **changes):
    return post_form(client, "/campaigns/new", {**VALID, **changes}, follow_redirects=True)


def only_campaign() -> Campaign:
    db.session.expire_all()
    return db.session.scalars(sa.select(Campaign)).one()


def test_compose_page_offers_the_editor_source_view_and_merge_fields(client, logged_in):
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert "/static/vendor/quill/quill.js" in page
    assert "/static/vendor/quill/quill.snow.css" in page
    assert "/static/campaigns/compose.js" in page
    assert 'id="toggle-source"' in page
    for field in ("name", "email", "unsubscribe_url"):
        assert f'data-merge-field="{field}"' in page


def test_edit_page_offers_the_campaigns_columns_as_merge_fields(client, logged_in):
    campaign = make_campaign(logged_in, merge_fields=[{"key": "first_name", "header": "First Name"}])
    page = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'data-merge-field="first_name"' in page
    assert "column “First Name”" in page


@pytest.mark.parametrize(
    "path", ["vendor/quill/quill.js", "vendor/quill/quill.snow.css", "campaigns/compose.js"]
)
def test_editor_files_are_served_by_the_app(client, path):
    response = client.get(f"/static/{path}")
    response.close()
    assert response.status_code == 200


def test_new_campaign_is_saved_as_a_draft_with_derived_plain_text(client, logged_in):
    response = compose(client)
    assert "“Spring sale” saved." in response.get_data(as_text=True)
    campaign = only_campaign()
    assert (campaign.user_id, campaign.status, campaign.text_edited) == (logged_in.id, "draft", False)
    assert campaign.text_body == "Hi {{ name }}\n"


def test_plain_text_written_by_the_user_is_kept(client, logged_in):
    compose(client, text_body="My own words, {{ name }}.", text_edited="y")
    campaign = only_campaign()
    assert (campaign.text_edited, campaign.text_body) == (True, "My own words, {{ name }}.")


def test_plain_text_is_derived_again_when_no_longer_marked_edited(client, logged_in):
    campaign = make_campaign(logged_in, text_body="old", text_edited=True)
    post_form(client, f"/campaigns/{campaign.id}/edit", {**VALID, "text_body": "old"})
    assert reload(campaign).text_body == "Hi {{ name }}\n"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"subject": ""}, "This field is required."),
        ({"name": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"subject": "x" * 999}, "Field cannot be longer than 998 characters."),
        ({"subject": "Hello\r\nBcc: everyone@example.com"}, "Use a single line without line breaks"),
        ({"subject": "Hello\nthere"}, "Use a single line without line breaks"),
        ({"html_body": "x" * 1_000_001}, "Keep this under 1,000,000 characters."),
    ],
)
def test_invalid_input_gets_a_clear_message_and_nothing_is_saved(client, logged_in, changes, message):
    response = compose(client, **changes)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize(
    ("changes", "reported"),
    [
        ({"subject": "Hello {{ name"}, "subject, line 1: unexpected end of template"),
        ({"html_body": "<p>one</p>\n<p>{% if name %}two</p>"}, "HTML, line 2: Unexpected end of template"),
        ({"html_body": "<p>{{ name | shout }}</p>"}, "HTML, line 1: No filter named &#39;shout&#39;."),
        (
            {"text_body": "line one\nline {{ two ]}", "text_edited": "y"},
            "plain text, line 2: unexpected &#39;]&#39;",
        ),
        ({"html_body": "<p>{{ 1 / 0 }}</p>"}, "HTML, line 1: ZeroDivisionError: division by zero"),
        ({"html_body": "<p>{{ name.__class__.__mro__ }}</p>"}, "HTML, line 1: SecurityError"),
    ],
)
def test_template_errors_are_reported_with_place_and_line_and_block_saving(
    client, logged_in, changes, reported
):
    response = compose(client, **changes)
    page = response.get_data(as_text=True)
    assert "Not saved: please correct the template errors" in page
    assert reported in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_unknown_field_is_saved_with_a_warning_naming_its_place(client, logged_in):
    response = compose(client, html_body="<p>Hi {{ name }}</p>\n<p>Your code: {{ code }}</p>")
    page = response.get_data(as_text=True)
    assert "“Spring sale” saved." in page
    assert "HTML, line 2: {{ code }} is not a field of your recipients" in page
    assert "cannot be scheduled" in page


def test_a_column_of_the_recipients_is_a_known_field(client, logged_in):
    campaign = make_campaign(logged_in)  # recipients have a "code" column
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/edit",
        {**VALID, "html_body": "<p>{{ code }}</p>"},
        follow_redirects=True,
    )
    assert "is not a field" not in response.get_data(as_text=True)


def test_save_as_template_then_start_a_campaign_from_it(client, logged_in):
    campaign = make_campaign(logged_in, text_edited=True, text_body="Own text {{ name }}")
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/save-as-template",
        {"name": "Monthly news"},
        follow_redirects=True,
    )
    assert "Saved as template “Monthly news”." in response.get_data(as_text=True)
    template = db.session.scalars(sa.select(Template)).one()
    assert (template.user_id, template.subject, template.text_body) == (
        logged_in.id,
        "Hello {{ name }}",
        "Own text {{ name }}",
    )

    listing = client.get("/campaigns/templates/").get_data(as_text=True)
    assert "Monthly news" in listing
    assert f"/campaigns/new?template={template.id}" in listing
    page = client.get(f"/campaigns/new?template={template.id}").get_data(as_text=True)
    assert 'value="Hello {{ name }}"' in page
    assert "Own text {{ name }}" in page
    assert 'name="text_edited" type="checkbox" value="y" checked' in page or "checked" in page


def test_templates_are_written_edited_and_deleted(client, logged_in):
    response = post_form(
        client,
        "/campaigns/templates/new",
        {"name": "Welcome", "subject": "Welcome {{ name }}", "html_body": "<p>Hi</p>", "text_body": ""},
        follow_redirects=True,
    )
    assert "Template “Welcome” saved." in response.get_data(as_text=True)
    template = db.session.scalars(sa.select(Template)).one()
    post_form(
        client,
        f"/campaigns/templates/{template.id}/edit",
        {"name": "Welcome aboard", "subject": "Hi", "html_body": "<p>Hello</p>", "text_body": ""},
    )
    db.session.expire_all()
    assert db.session.get(Template, template.id).name == "Welcome aboard"
    response = post_form(
        client,
        f"/campaigns/templates/{template.id}/delete",
        {},
        follow_redirects=True,
    )
    assert "Template “Welcome aboard” deleted." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Template)).all() == []


def test_template_with_a_syntax_error_is_not_saved(client, logged_in):
    response = post_form(
        client,
        "/campaigns/templates/new",
        {"name": "Broken", "subject": "", "html_body": "{% for %}", "text_body": ""},
    )
    assert "HTML, line 1" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Template)).all() == []


def test_another_users_template_is_not_listed_nor_usable(client, logged_in, make_user):
    other = make_user()
    template = Template(user_id=other.id, name="Secret plan", html_body="<p>secret</p>")
    db.session.add(template)
    db.session.commit()
    assert "Secret plan" not in client.get("/campaigns/templates/").get_data(as_text=True)
    assert client.get(f"/campaigns/new?template={template.id}").status_code == 404


def test_compose_page_shows_the_default_unsubscribe_footer_to_copy_and_edit(client, logged_in):
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert 'id="unsubscribe-footer"' in page
    assert HTML_FOOTER in html.unescape(page)
    assert "Unsubscribe: {{ unsubscribe_url }}" in page


def test_the_preheader_is_saved_and_shown_again_for_editing(client, logged_in):
    compose(client, preheader="  Up to 40% off this week  ")
    campaign = only_campaign()
    assert campaign.preheader == "Up to 40% off this week"
    page = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'value="Up to 40% off this week"' in page


def test_a_preheader_too_long_is_refused_with_a_message(client, logged_in):
    response = compose(client, preheader="x" * 256)
    assert "Field cannot be longer than 255 characters." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Campaign)).all() == []


def test_the_editor_links_the_emails_stylesheet_after_quills(client, logged_in):
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert page.index("/static/vendor/quill/quill.snow.css") < page.index("/static/email.css")
    response = client.get("/static/email.css")
    response.close()
    assert response.status_code == 200
