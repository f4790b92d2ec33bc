"""Saving an import: it replaces the whole list and the merge fields at once, or changes nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.address_import import import_paste, import_upload
from app.campaigns.recipients import store
from app.campaigns.recipients.store import recipient_count, replace_recipients
from app.campaigns.recipients.uploads import MAX_AGE_SECONDS, MAX_PENDING_PER_USER
from app.extensions import db
from app.models import Campaign, User
from tests.builders import add_draft
from tests.campaigns.conftest import RecipientsFlow
from tests.upload_bombs import upload_limits

OLD_LIST = b"email,name,city\r\nold1@example.com,Old One,Paris\r\nold2@example.com,Old Two,Rome\r\n"


@pytest.fixture
def saved_old_list(recipients_flow: RecipientsFlow) -> list[tuple[str, str, dict[str, str]]]:
    recipients_flow.save(recipients_flow.upload(OLD_LIST, "old.csv"))
    return recipients_flow.saved()


def test_saving_replaces_recipients_and_merge_fields(recipients_flow: RecipientsFlow, saved_old_list: list):
    assert recipients_flow.merge_fields() == [{"key": "city", "header": "city"}]
    recipients_flow.save(recipients_flow.upload_fixture("semicolon.csv"))
    assert recipients_flow.saved() == [
        ("anna@example.com", "Anna", {"amount": "1,50"}),
        ("bob@example.com", "Bob", {"amount": "2,75"}),
    ]
    assert recipients_flow.merge_fields() == [{"key": "amount", "header": "Amount"}]


@pytest.mark.usefixtures("production_errors")
def test_failure_midway_leaves_the_old_recipients_intact(
    recipients_flow: RecipientsFlow, saved_old_list: list, monkeypatch: pytest.MonkeyPatch
):
    """The old rows are deleted and some new ones written before the database refuses a row."""
    good_rows = store._rows

    def rows_then_a_bad_one(campaign: Campaign, recipients: Any) -> Iterator[tuple[Any, ...]]:
        yield from good_rows(campaign, recipients)
        yield (campaign.user_id, campaign.id, None, "bad@example.com", "", {})  # position is NOT NULL

    monkeypatch.setattr(store, "_rows", rows_then_a_bad_one)
    failed = recipients_flow.save(recipients_flow.upload_fixture("semicolon.csv"))

    assert failed.status_code == 500
    assert "Nothing was saved" in failed.get_data(as_text=True)
    db.session.expire_all()
    assert recipients_flow.saved() == saved_old_list
    assert recipients_flow.merge_fields() == [{"key": "city", "header": "city"}]


def test_awkward_values_survive_the_database_exactly(app, draft: Campaign):
    """Quotes, delimiters, line breaks, backslashes and non-ASCII text (COPY's CSV on PostgreSQL)."""
    data = (
        'email,name,note,empty\r\n"a@example.com","Smith, ""Al""","line\r\nbreak \\N \\\\ tab\tend",\r\n'
        "b@example.com,Zoë 😀,=1+1,\r\n"
    ).encode()
    result = import_upload(data, "list.csv", limits=upload_limits(10))
    assert replace_recipients(db.session, draft, result) == 2
    db.session.commit()
    db.session.expire_all()
    flow = RecipientsFlow(app.test_client(), draft)
    assert flow.saved() == [
        ("a@example.com", 'Smith, "Al"', {"note": "line\r\nbreak \\N \\\\ tab\tend", "empty": ""}),
        ("b@example.com", "Zoë 😀", {"note": "=1+1", "empty": ""}),
    ]


def test_name_longer_than_the_column_is_cut(draft: Campaign):
    result = import_paste(f"{'N' * 300} <a@example.com>", limits=upload_limits(10))
    replace_recipients(db.session, draft, result)
    db.session.commit()
    assert len(RecipientsFlow(None, draft).saved()[0][1]) == store.NAME_LENGTH


def test_replace_leaves_other_campaigns_alone(draft: Campaign, logged_in: User):
    other = add_draft(logged_in, name="Other")
    replace_recipients(db.session, other, import_paste("x@example.com", limits=upload_limits(10)))
    replace_recipients(
        db.session, draft, import_paste("a@example.com, b@example.com", limits=upload_limits(10))
    )
    replace_recipients(db.session, draft, import_paste("c@example.com", limits=upload_limits(10)))
    db.session.commit()
    assert (recipient_count(other), recipient_count(draft)) == (1, 1)


def test_recipients_page_lists_pages_and_searches(
    recipients_flow: RecipientsFlow, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(store, "RECIPIENTS_PER_PAGE", 2)
    recipients_flow.save(recipients_flow.paste("a1@example.com, b_2@example.com, a3@example.com, ab@x.org"))
    first = client.get(recipients_flow.url).get_data(as_text=True)
    second = client.get(recipients_flow.url, query_string={"page": 2}).get_data(as_text=True)
    found = client.get(recipients_flow.url, query_string={"q": "B_2"}).get_data(as_text=True)

    assert "4 recipients" in first
    assert "a1@example.com" in first
    assert "a3@example.com" not in first
    assert "a3@example.com" in second
    assert "ab@x.org" in second
    assert "b_2@example.com" in found
    assert "ab@x.org" not in found, "_ is matched literally"


def test_the_uploads_bytes_are_deleted_once_saved(recipients_flow: RecipientsFlow, uploads_folder: Path):
    review = recipients_flow.paste("anna@example.com")
    assert len(list(uploads_folder.rglob("*"))) == 3  # the user's folder, the upload, its description
    recipients_flow.save(review)
    stored = [path for path in uploads_folder.rglob("*") if path.is_file() and path.suffix != ".json"]
    assert [path.read_bytes() for path in stored] == [b""]  # only the note that it was saved stays


def test_saving_the_same_upload_again_explains_it_was_saved(recipients_flow: RecipientsFlow):
    """The back button to the summary, then "Save" again: the form is sent a second time."""
    review = recipients_flow.paste("anna@example.com, ravi@example.com")
    recipients_flow.save(review)
    again = recipients_flow.save(review)
    assert again.status_code == 200
    assert again.request.path == recipients_flow.url
    assert "These recipients were already saved — see the campaign" in again.get_data(as_text=True)
    assert [address for address, _, _ in recipients_flow.saved()] == ["anna@example.com", "ravi@example.com"]


def test_revisiting_the_summary_of_a_saved_upload_explains_it_was_saved(
    recipients_flow: RecipientsFlow, client: FlaskClient
):
    review = recipients_flow.paste("anna@example.com")
    recipients_flow.save(review)
    again = client.get(review.request.path, follow_redirects=True)
    assert again.request.path == recipients_flow.url
    assert "These recipients were already saved — see the campaign" in again.get_data(as_text=True)


def test_after_saving_the_page_offers_to_preview_and_schedule(recipients_flow: RecipientsFlow):
    saved = recipients_flow.save(recipients_flow.paste("anna@example.com")).get_data(as_text=True)
    campaign_url = f"/campaigns/{recipients_flow.campaign_id}"
    assert f'<a class="btn btn-primary" href="{campaign_url}">Preview the email</a>' in saved
    assert f'<a class="btn btn-outline-primary" href="{campaign_url}#schedule-card">Schedule</a>' in saved


def test_without_recipients_no_next_step_is_offered(recipients_flow: RecipientsFlow, client: FlaskClient):
    assert "Preview the email" not in client.get(recipients_flow.url).get_data(as_text=True)


def test_unreadable_upload_is_deleted_at_once(recipients_flow: RecipientsFlow, uploads_folder: Path):
    recipients_flow.upload_fixture("legacy.xls")
    assert [path for path in uploads_folder.rglob("*") if path.is_file()] == []


def test_uploads_expire_after_a_day(
    recipients_flow: RecipientsFlow, client: FlaskClient, uploads_folder: Path
):
    review = recipients_flow.paste("anna@example.com")
    day_ago = time.time() - MAX_AGE_SECONDS - 1
    for path in uploads_folder.rglob("*"):
        os.utime(path, (day_ago, day_ago))

    expired = recipients_flow.save(review)

    assert expired.status_code == 404
    assert recipients_flow.saved() == []
    assert [path for path in uploads_folder.rglob("*") if path.is_file()] == []


def test_each_user_keeps_only_a_few_uploads(recipients_flow: RecipientsFlow, uploads_folder: Path):
    for n in range(MAX_PENDING_PER_USER + 3):
        recipients_flow.paste(f"user{n}@example.com")
    uploads = [path for path in uploads_folder.rglob("*") if path.is_file() and path.suffix != ".json"]
    assert len(uploads) == MAX_PENDING_PER_USER
