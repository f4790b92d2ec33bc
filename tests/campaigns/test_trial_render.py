"""The save-time check renders each template with the longest real value of each recipient field, not a
sample, so a template that would pass the render limits on real data is caught before sending, in both
orders: template first, then recipients (the list is saved with a warning; scheduling waits for a fix),
or recipients first, then the template (not saved). The limits themselves: tests/security/test_rendering.py.
"""

from __future__ import annotations

from typing import Any

from app.models import Campaign, User
from app.states import CampaignStatus
from tests.builders import make_account, reload
from tests.conftest import post_form
from tests.security.test_rendering import LONG_CODE, LOOP_OVER_CODE, TOO_SLOW
from tests.smtp_sink import SMTPSink

LOOPING = {"name": "Loop", "subject": "Hello", "html_body": LOOP_OVER_CODE}


def long_code_csv() -> bytes:
    rows = ["email,name,code", "short@rcpt.example,Short,C1", f"long@rcpt.example,Long,{LONG_CODE}"]
    return "\n".join(rows).encode()


def test_the_longest_value_of_each_field_is_kept_with_the_recipients(recipients_flow: Any) -> None:
    recipients_flow.save(recipients_flow.upload(long_code_csv(), "list.csv"))
    campaign = reload_campaign(recipients_flow)
    assert campaign.longest_values == {"name": "Short", "email": "short@rcpt.example", "code": LONG_CODE}


def reload_campaign(recipients_flow: Any) -> Campaign:
    from app.extensions import db

    db.session.expire_all()
    return db.session.get_one(Campaign, recipients_flow.campaign_id)


def test_a_template_that_fails_on_the_recipients_longest_value_is_not_saved(
    client: Any, logged_in: User, recipients_flow: Any
) -> None:
    recipients_flow.save(recipients_flow.upload(long_code_csv(), "list.csv"))
    response = post_form(
        client, f"/campaigns/{recipients_flow.campaign_id}/edit", LOOPING, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Not saved: please correct the template errors listed below." in page
    assert TOO_SLOW in page
    assert reload_campaign(recipients_flow).html_body != LOOP_OVER_CODE


def test_recipients_that_make_the_template_fail_are_saved_with_a_warning_and_block_scheduling(
    client: Any, logged_in: User, draft: Campaign, recipients_flow: Any, smtp_sink: SMTPSink
) -> None:
    """The template passes with samples, then a list with a long value arrives: the list is kept (it is
    not wrong), the user is told, and the campaign can't be scheduled until the template is fixed."""
    make_account(logged_in, smtp_sink)
    saved = post_form(client, f"/campaigns/{draft.id}/edit", LOOPING, follow_redirects=True)
    assert "“Loop” saved." in saved.get_data(as_text=True)

    page = recipients_flow.save(recipients_flow.upload(long_code_csv(), "list.csv")).get_data(as_text=True)
    assert "Saved 2 recipients" in page
    assert "fails with these recipients&#39; data" in page
    assert TOO_SLOW in page

    scheduled = post_form(
        client,
        f"/campaigns/{draft.id}/schedule",
        {"when": "now", "timezone": "Asia/Kolkata"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "cannot be scheduled until these are fixed" in scheduled
    assert TOO_SLOW in scheduled
    assert reload(draft).status == CampaignStatus.DRAFT
