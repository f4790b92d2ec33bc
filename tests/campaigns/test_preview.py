"""Does the preview show the email as a chosen recipient gets it, and does "Send test" deliver it?"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CampaignRecipient, Suppression
from app.sending.message import HTML_FOOTER
from app.sending.unsubscribe_links import UnsubscribeLinks
from app.smtp_crypto import encrypt_password
from tests.builders import make_account, make_campaign
from tests.conftest import post_form
from tests.email_html import written_body


def srcdoc(page: str) -> str:
    match = re.search(
        r'<iframe class="campaign-preview" title="Email preview" sandbox srcdoc="([^"]*)"', page
    )
    assert match, "the preview is not in a sandboxed iframe"
    return written_body(html.unescape(match.group(1)))


def without_footer(body: str) -> str:
    """The body the user wrote, the default unsubscribe footer (which must be there) cut off."""
    written, footer, _ = body.partition(HTML_FOOTER.partition("<a")[0])
    assert footer, "the default unsubscribe footer is missing"
    return written


def test_preview_renders_for_the_first_recipient_in_a_sandboxed_iframe(client, logged_in):
    campaign = make_campaign(logged_in)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert without_footer(srcdoc(page)) == "<p>Dear Reader 0, your code is C0.</p>"
    assert "Hello Reader 0" in page
    assert "Dear Reader 0, your code is C0." in page  # the plain-text part


def test_preview_for_a_chosen_recipient(client, logged_in):
    campaign = make_campaign(logged_in)
    third = db.session.query(CampaignRecipient).filter_by(campaign_id=campaign.id, position=2).one()
    page = client.get(f"/campaigns/{campaign.id}?recipient={third.id}").get_data(as_text=True)
    assert without_footer(srcdoc(page)) == "<p>Dear Reader 2, your code is C2.</p>"


def test_merge_values_are_escaped_in_the_html_part(client, logged_in):
    campaign = make_campaign(logged_in, recipients=0)
    db.session.add(
        CampaignRecipient(
            user_id=logged_in.id,
            campaign_id=campaign.id,
            position=0,
            address="x@example.com",
            name='<script>alert("x")</script>',
            merge_data={"code": "<b>"},
        )
    )
    db.session.commit()
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "<script>" not in page
    assert (
        without_footer(srcdoc(page))
        == "<p>Dear &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;, your code is &lt;b&gt;.</p>"
    )


def test_without_recipients_the_preview_uses_the_user_and_bracketed_column_names(client, logged_in):
    campaign = make_campaign(logged_in, recipients=0)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert without_footer(srcdoc(page)) == f"<p>Dear {logged_in.username}, your code is [code].</p>"


def test_unsubscribe_url_renders_the_recipients_signed_link_and_replaces_the_footer(app, client, logged_in):
    campaign = make_campaign(logged_in, html_body='<a href="{{ unsubscribe_url }}">Leave</a>', text_body="")
    link = UnsubscribeLinks.from_config(app.config).url(logged_in.id, "reader0@rcpt.example")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert srcdoc(page) == f'<a href="{link}">Leave</a>'
    assert f"Leave ({link})" in page  # the plain-text part derived from it


def test_without_unsubscribe_url_the_preview_shows_the_default_footer_with_the_link(app, client, logged_in):
    campaign = make_campaign(logged_in)
    link = UnsubscribeLinks.from_config(app.config).url(logged_in.id, "reader0@rcpt.example")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f'<a href="{link}">Unsubscribe</a>' in srcdoc(page)
    assert f"Unsubscribe: {link}" in page  # and in the plain-text part


def test_send_test_delivers_the_personalised_email_to_the_users_own_address(client, logged_in, smtp_sink):
    make_account(logged_in, smtp_sink)
    campaign = make_campaign(logged_in)
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/send-test",
        {"to": logged_in.email},
        follow_redirects=True,
    )
    assert f"Test email sent to {logged_in.email}, as reader0@rcpt.example will get it" in response.get_data(
        as_text=True
    )
    received = smtp_sink.wait_for(1)[0]
    assert received.rcpt_tos == (logged_in.email,)
    message = received.message
    assert message["Subject"] == "[Test] Hello Reader 0"
    assert message["To"] == logged_in.email
    assert (
        without_footer(written_body(message.get_body(("html",)).get_content()))
        == "<p>Dear Reader 0, your code is C0.</p>"
    )


def test_the_test_emails_unsubscribe_link_suppresses_nobody(app, client, logged_in, smtp_sink):
    """The owner clicks "Unsubscribe" in their own test: a page says what the link is, and neither
    they nor the recipient the test was shown as is unsubscribed, by the page or by a one-click POST."""
    make_account(logged_in, smtp_sink)
    campaign = make_campaign(logged_in, html_body="<p>Hi</p>")
    post_form(
        client,
        f"/campaigns/{campaign.id}/send-test",
        {"to": logged_in.email},
    )
    message = smtp_sink.wait_for(1)[0].message
    header_link = message["List-Unsubscribe"].strip("<>")
    links = UnsubscribeLinks.from_config(app.config)
    assert header_link == links.test_url(logged_in.id, logged_in.email)
    assert header_link != links.url(logged_in.id, logged_in.email)
    assert f'<a href="{header_link}">Unsubscribe</a>' in message.get_body(("html",)).get_content()
    path = urlsplit(header_link).path
    for response in (client.get(path), client.post(path), app.test_client().post(path)):
        assert response.status_code == 200
        assert "This is the unsubscribe link of a test email" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Suppression)).all() == []


def test_send_test_without_an_smtp_account_says_so(client, logged_in):
    campaign = make_campaign(logged_in)
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/send-test",
        {"to": logged_in.email},
        follow_redirects=True,
    )
    assert (
        "There is no SMTP account to send through yet: set one up under Settings first."
        in response.get_data(as_text=True)
    )


def test_send_test_reports_the_servers_refusal(client, logged_in, make_smtp_sink):
    sink = make_smtp_sink(username="me", password="right")
    account = make_account(logged_in, sink)
    account.password_encrypted = encrypt_password("wrong")
    db.session.commit()
    campaign = make_campaign(logged_in)
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/send-test",
        {"to": logged_in.email},
        follow_redirects=True,
    )
    assert f"Authentication failed at 127.0.0.1:{sink.port}: 535" in response.get_data(as_text=True)
    assert sink.messages == []


def test_an_unknown_merge_field_is_highlighted_in_the_preview_with_a_notice(client, logged_in):
    campaign = make_campaign(
        logged_in, subject="Hi {{ compny }}", html_body="<p>Welcome to {{ compny }}, {{ name }}.</p>"
    )
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert (
        without_footer(srcdoc(page))
        == '<p>Welcome to <mark class="unknown-field">{{ compny }}</mark>, Reader 0.</p>'
    )
    assert 'Unknown merge field: <mark class="unknown-field">compny</mark>' in page
    assert '<strong id="preview-subject">Hi {{ compny }}</strong>' in page


def test_a_known_field_or_one_with_a_default_raises_no_notice(client, logged_in):
    campaign = make_campaign(logged_in, html_body="<p>{{ code }} at {{ compny | default('our shop') }}</p>")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert without_footer(srcdoc(page)) == "<p>C0 at our shop</p>"
    assert "Unknown merge field" not in page


def test_the_test_email_leaves_an_unknown_field_blank_as_recipients_would_get_it(
    client, logged_in, smtp_sink
):
    make_account(logged_in, smtp_sink)
    campaign = make_campaign(logged_in, html_body="<p>Welcome to {{ compny }}.</p>")
    post_form(
        client,
        f"/campaigns/{campaign.id}/send-test",
        {"to": logged_in.email},
    )
    html_part = smtp_sink.wait_for(1)[0].message.get_body(("html",)).get_content()
    assert without_footer(written_body(html_part)) == "<p>Welcome to .</p>"


def test_the_plain_text_preview_wraps_its_long_lines(client, logged_in):
    campaign = make_campaign(logged_in)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert '<pre class="preview-text' in page
    response = client.get("/static/app.css")
    css = response.get_data(as_text=True)
    response.close()
    assert re.search(r"\.preview-text \{[^}]*white-space: pre-wrap", css)


def send_test_to(client, campaign, to: str):
    return post_form(
        client,
        f"/campaigns/{campaign.id}/send-test",
        {"to": to},
        follow_redirects=True,
    )


def test_a_test_goes_to_each_of_up_to_five_addresses_of_the_users_choice(client, logged_in, smtp_sink):
    make_account(logged_in, smtp_sink)
    campaign = make_campaign(logged_in)
    chosen = ["me@example.com", "boss@example.com", "seed1@example.net", "seed2@example.net", "x@example.org"]
    page = send_test_to(client, campaign, " , ".join(chosen) + ", ME@Example.com,").get_data(as_text=True)
    assert f"Test email sent to {', '.join(chosen)}, as reader0@rcpt.example will get it" in page
    received = smtp_sink.wait_for(5)
    assert sorted(message.rcpt_tos for message in received) == sorted((address,) for address in chosen)
    for message in received:
        assert message.message["To"] == message.rcpt_tos[0]
        assert message.message["Subject"] == "[Test] Hello Reader 0"


def test_the_test_address_field_starts_with_the_users_own_address(client, logged_in):
    campaign = make_campaign(logged_in)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert re.search(rf'<input [^>]*name="to"[^>]*value="{re.escape(logged_in.email)}"', page)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "a@example.com, b@example.com, c@example.com, d@example.com, e@example.com, f@example.com",
            "A test goes to at most 5 addresses; you entered 6.",
        ),
        ("me@example.com, not-an-address", "“not-an-address” is not an email address"),
        (" , ", "Enter the address to send the test to."),
    ],
)
def test_a_list_of_test_addresses_that_cant_be_used_is_refused_and_kept(
    client, logged_in, smtp_sink, typed, message
):
    make_account(logged_in, smtp_sink)
    campaign = make_campaign(logged_in)
    response = send_test_to(client, campaign, typed)
    page = response.get_data(as_text=True)
    assert "No test sent: please correct the addresses." in page
    assert html.escape(message, quote=False) in page or message in page
    assert f'value="{html.escape(typed.strip())}"' in page
    assert smtp_sink.messages == []
