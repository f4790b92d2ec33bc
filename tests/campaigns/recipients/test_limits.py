"""The limits of one import: the upload size (413 page) and the number of recipients."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.campaigns.conftest import RecipientsFlow
from tests.conftest import csrf_token_from

MAX_UPLOAD_MB = 1
MAX_RECIPIENTS = 3


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"MAX_UPLOAD_MB": MAX_UPLOAD_MB, "MAX_RECIPIENTS": MAX_RECIPIENTS}


def addresses(count: int) -> list[str]:
    return [f"user{n}@example.com" for n in range(count)]


def test_too_large_upload_gets_the_413_page(recipients_flow: RecipientsFlow, client: FlaskClient):
    """Refused from its Content-Length, before the body is read: no temporary file, no half-read stream.

    The body is encoded here, in memory, because the test client would spool a big one to a temporary
    file that it leaves open when the app does not read it.
    """
    too_big = b"email\r\n" + b"x@example.com\r\n" * (MAX_UPLOAD_MB * 1024 * 1024 // 15 + 1)
    page = client.get(recipients_flow.url)
    boundary, body = encode_multipart(
        {"csrf_token": csrf_token_from(page), "file": FileStorage(io.BytesIO(too_big), "big.csv")}
    )
    response = client.post(
        f"{recipients_flow.url}/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "File too large" in page
    assert f"The upload for “Spring sale” is larger than {MAX_UPLOAD_MB} MB, the upload limit" in page
    assert recipients_flow.saved() == []


def test_the_413_page_leads_back_to_the_campaigns_recipients(recipients_flow: RecipientsFlow, client):
    response = client.post(
        f"{recipients_flow.url}/upload",
        data=b"x" * (MAX_UPLOAD_MB * 1024 * 1024 + 1),
        content_type="multipart/form-data; boundary=x",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert (
        f'<a class="btn btn-primary" href="{recipients_flow.url}">Back to the recipients of “Spring sale”</a>'
        in page
    )


def test_a_too_large_request_elsewhere_gets_the_plain_413_page(client, logged_in):
    response = client.post(
        "/settings/smtp",
        data=b"x" * (MAX_UPLOAD_MB * 1024 * 1024 + 1),
        content_type="multipart/form-data; boundary=x",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert f"The upload is larger than {MAX_UPLOAD_MB} MB." in page
    assert "Back to the dashboard" in page


def test_the_upload_field_tells_the_browser_the_limit(recipients_flow: RecipientsFlow, client):
    page = client.get(recipients_flow.url).get_data(as_text=True)
    assert f'data-max-bytes="{MAX_UPLOAD_MB * 1024 * 1024}"' in page


def test_upload_under_the_limit_is_read(recipients_flow: RecipientsFlow):
    padded_line = b" " * 80_000 + b"\r\n"  # under MAX_ROW_CHARS, five of them under the row limit
    response = recipients_flow.upload(b"email\r\na@example.com" + padded_line * 5, "ok.csv")
    assert response.status_code == 200


def test_list_over_the_recipient_limit_is_refused(recipients_flow: RecipientsFlow):
    data = ("email\r\n" + "\r\n".join(addresses(MAX_RECIPIENTS + 1))).encode()
    refused = recipients_flow.upload(data, "list.csv")
    assert refused.status_code == 422
    assert "This list has more than 3 recipients, the most one import takes." in refused.get_data(
        as_text=True
    )
    assert recipients_flow.saved() == []


def test_paste_over_the_recipient_limit_is_refused(recipients_flow: RecipientsFlow):
    refused = recipients_flow.paste(", ".join(addresses(MAX_RECIPIENTS + 1)))
    assert "This list has more than 3 recipients" in refused.get_data(as_text=True)
    assert recipients_flow.saved() == []


def test_list_at_the_recipient_limit_is_saved(recipients_flow: RecipientsFlow):
    recipients_flow.save(recipients_flow.paste(", ".join(addresses(MAX_RECIPIENTS))))
    assert len(recipients_flow.saved()) == MAX_RECIPIENTS


def test_a_too_large_upload_to_a_campaign_not_yours_names_none(client: FlaskClient, logged_in):
    response = client.post(
        "/campaigns/99999/recipients/upload",
        data=b"x" * (MAX_UPLOAD_MB * 1024 * 1024 + 1),
        content_type="multipart/form-data; boundary=x",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert f"The upload is larger than {MAX_UPLOAD_MB} MB." in page
    assert "Back to the dashboard" in page
