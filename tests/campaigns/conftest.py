"""Fixtures for the campaigns area: a draft campaign and its Recipients page driven like a browser."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Campaign, CampaignRecipient, User
from app.states import CampaignStatus
from tests.builders import add_draft
from tests.conftest import csrf_token_from, post_form

RECIPIENT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "recipients"
_SAVE_ACTION = re.compile(r'<form method="post"[^>]*action="([^"]*/recipients/save/[^"]*)"')


class RecipientsFlow:
    """The Recipients page of one campaign, used as a person would: upload or paste, review, save."""

    def __init__(self, client: FlaskClient, campaign: Campaign) -> None:
        self.client = client
        self.campaign_id = campaign.id
        self.url = f"/campaigns/{campaign.id}/recipients"

    def upload(self, data: bytes, filename: str) -> TestResponse:
        """Upload a file and follow to the summary (or to the page that explains the refusal)."""
        return post_form(
            self.client,
            f"{self.url}/upload",
            {"file": (io.BytesIO(data), filename)},
            content_type="multipart/form-data",
            follow_redirects=True,
        )

    def upload_fixture(self, name: str) -> TestResponse:
        return self.upload((RECIPIENT_FIXTURES / name).read_bytes(), name)

    def paste(self, text: str) -> TestResponse:
        return post_form(self.client, f"{self.url}/paste", {"addresses": text}, follow_redirects=True)

    def save(self, review: TestResponse) -> TestResponse:
        """Press the summary's "Save" button."""
        page = review.get_data(as_text=True)
        action = _SAVE_ACTION.search(page)
        assert action, "the summary has no Save button"
        return self.client.post(
            action.group(1).replace("&amp;", "&"),
            data={"csrf_token": csrf_token_from(review)},
            follow_redirects=True,
        )

    def saved(self) -> list[tuple[str, str, dict[str, str]]]:
        """(address, name, merge data) of the campaign's recipients in their saved order."""
        rows = db.session.execute(
            sa.select(CampaignRecipient.address, CampaignRecipient.name, CampaignRecipient.merge_data)
            .where(CampaignRecipient.campaign_id == self.campaign_id)
            .order_by(CampaignRecipient.position)
        )
        return [tuple(row) for row in rows]

    def merge_fields(self) -> list[dict[str, str]]:
        db.session.expire_all()
        return db.session.get(Campaign, self.campaign_id).merge_fields


@pytest.fixture
def draft(logged_in: User) -> Campaign:
    """A draft campaign of the logged-in user."""
    return add_draft(logged_in, status=CampaignStatus.DRAFT)


@pytest.fixture
def recipients_flow(client: FlaskClient, draft: Campaign, uploads_folder: Path) -> RecipientsFlow:
    return RecipientsFlow(client, draft)
