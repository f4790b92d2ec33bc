"""Who may change a campaign's recipients, and when: its owner, while it is a draft, with a CSRF token."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import clock
from app.extensions import db
from app.models import Campaign, User
from app.states import CampaignStatus
from tests.builders import add_draft
from tests.campaigns.conftest import RecipientsFlow
from tests.conftest import AuthActions


def save_path(flow: RecipientsFlow) -> str:
    """Where the Save button of a fresh paste's summary posts to."""
    review = flow.paste("anna@example.com")
    return re.search(
        r'action="(/campaigns/\d+/recipients/save/[^"?]+)"', review.get_data(as_text=True)
    ).group(1)


def test_recipients_page_needs_a_log_in(client: FlaskClient, draft: Campaign, auth: AuthActions):
    auth.logout()
    response = client.get(f"/campaigns/{draft.id}/recipients")
    assert response.status_code == 302
    assert "/login" in response.location


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", "/upload"), ("post", "/paste"), ("get", "/review/" + "a" * 32)],
)
def test_another_users_campaign_is_not_found(
    client: FlaskClient,
    logged_in: User,
    make_user: Callable[..., User],
    method: str,
    suffix: str,
):
    """Every recipients URL of someone else's campaign answers 404, as if it did not exist."""
    theirs = add_draft(make_user())
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True))
    data = {"csrf_token": token.group(1)} if token else {}
    response = getattr(client, method)(f"/campaigns/{theirs.id}/recipients{suffix}", data=data)
    assert response.status_code == 404


def test_another_users_upload_cannot_be_reviewed_or_saved(
    recipients_flow: RecipientsFlow,
    client: FlaskClient,
    auth: AuthActions,
    make_user: Callable[..., User],
):
    token = save_path(recipients_flow).rsplit("/", 1)[1]
    auth.logout()
    intruder = make_user()
    auth.login(intruder.username)
    own = add_draft(intruder)
    assert client.get(f"/campaigns/{own.id}/recipients/review/{token}").status_code == 404
    page = client.get(f"/campaigns/{own.id}/recipients")
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    saved = client.post(f"/campaigns/{own.id}/recipients/save/{token}", data={"csrf_token": csrf})
    assert saved.status_code == 404


def test_deleted_campaign_is_not_found(recipients_flow: RecipientsFlow, draft: Campaign, client: FlaskClient):
    draft.deleted_at = clock.utcnow()
    db.session.commit()
    assert client.get(recipients_flow.url).status_code == 404


@pytest.mark.parametrize("path", ["../../secret", "short", "a" * 31 + "."])
def test_malformed_upload_token_is_not_found(recipients_flow: RecipientsFlow, client: FlaskClient, path: str):
    assert client.get(f"{recipients_flow.url}/review/{path}").status_code == 404


def test_forms_carry_a_csrf_token_and_a_post_without_one_is_refused(
    recipients_flow: RecipientsFlow, client: FlaskClient, uploads_folder: Path
):
    page = client.get(recipients_flow.url).get_data(as_text=True)
    assert len(re.findall(r'name="csrf_token"', page)) >= 3  # upload, paste, log out
    review = recipients_flow.paste("anna@example.com")
    assert 'name="csrf_token"' in review.get_data(as_text=True)

    forged = client.post(
        f"{recipients_flow.url}/upload",
        data={"file": (io.BytesIO(b"email\r\nanna@example.com\r\n"), "list.csv")},
        content_type="multipart/form-data",
    )
    forged_save = client.post(save_path(recipients_flow))

    assert forged.status_code == forged_save.status_code == 400
    assert "The form had expired or was not sent by this site." in forged.get_data(as_text=True)
    assert recipients_flow.saved() == []


@pytest.mark.parametrize(
    "status", [s for s in CampaignStatus.__dict__.values() if isinstance(s, str) and s != "draft"]
)
def test_recipients_of_a_campaign_past_draft_cannot_change(
    recipients_flow: RecipientsFlow, draft: Campaign, client: FlaskClient, status: str
):
    draft.status = status
    db.session.commit()
    page = client.get(recipients_flow.url).get_data(as_text=True)
    assert "Recipients can only be changed while the campaign is a draft." in page
    assert "/recipients/upload" not in page

    refused = recipients_flow.paste("anna@example.com")

    assert f"“Spring sale” is {status}: its recipients can only be changed while it is a draft." in (
        refused.get_data(as_text=True)
    )
    assert recipients_flow.saved() == []


def test_campaign_scheduled_after_the_review_is_not_changed(recipients_flow: RecipientsFlow, draft: Campaign):
    review = recipients_flow.paste("anna@example.com")
    draft.status = CampaignStatus.SCHEDULED
    db.session.commit()

    refused = recipients_flow.save(review)

    assert "its recipients can only be changed while it is a draft" in refused.get_data(as_text=True)
    assert recipients_flow.saved() == []
