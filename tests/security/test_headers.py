"""Do the pages tell the browser what they may do, and does a POST from another site get refused?

Issue 13: no CSP, X-Frame-Options, X-Content-Type-Options or Referrer-Policy headers, and the Referer
was checked only over HTTPS (Flask-WTF's WTF_CSRF_SSL_STRICT).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Suppression
from app.sending.unsubscribe_links import UnsubscribeLinks
from tests.conftest import PASSWORD, csrf_token_from

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"""<[^>]*\son[a-z]+\s*=""", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


@pytest.mark.parametrize(
    "path", ["/login", "/", "/campaigns/", "/dashboard/stats", "/static/app.css", "/no-such-page"]
)
def test_every_response_carries_the_security_headers(client, logged_in, path):
    with client.get(path) as response:
        headers = response.headers
    policy = directives(headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"], "no inline script, no eval, nothing from elsewhere"
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers, "plain HTTP: a browser would ignore it"


def test_https_responses_ask_for_https_from_now_on(client):
    response = client.get("/login", base_url="https://campaigns.example.com")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_template_has_inline_script_or_event_handlers():
    """What the policy would refuse in the browser, found in the source (the browser tests fail on any
    refusal too)."""
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text()
        for attributes in SCRIPT_TAG.findall(source):
            assert "src=" in attributes or 'type="application/json"' in attributes, (
                f"{template}: inline script"
            )
        assert not EVENT_HANDLER.search(source), f"{template}: an inline event handler"
        assert not JAVASCRIPT_URL.search(source), f"{template}: a javascript: URL"


# ----- where a POST comes from -------------------------------------------------------------------------


def create_campaign(client, **headers: str):
    token = csrf_token_from(client.get("/campaigns/new"))
    data = {"csrf_token": token, "name": "Spring sale", "subject": "Hi", "html_body": "<p>Hi</p>"}
    return client.post("/campaigns/new", data=data, headers=headers)


def campaigns() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Campaign))


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "https://localhost"},  # another scheme is another origin
        {"Origin": "null"},  # a sandboxed frame, a data: page
        {"Referer": "http://evil.example/page"},
        {"Origin": "http://evil.example", "Referer": "http://localhost/campaigns/new"},
    ],
)
def test_a_post_from_another_site_is_refused_over_plain_http(client, logged_in, headers):
    response = create_campaign(client, **headers)
    assert response.status_code == 400
    assert "was not sent by this site" in response.get_data(as_text=True)
    assert campaigns() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost"},
        {"Origin": "HTTP://LOCALHOST"},
        {"Referer": "http://localhost/campaigns/new"},
        {"Origin": "http://127.0.0.1:5000"},  # PUBLIC_BASE_URL: the address behind a TLS proxy
        {},  # an old client that sends neither: the token alone decides
    ],
)
def test_a_post_from_this_site_goes_through(client, logged_in, headers):
    assert create_campaign(client, **headers).status_code == 302
    assert campaigns() == 1


def test_a_post_from_another_site_is_refused_over_https(client, make_user):
    make_user("asha")
    https = "https://campaigns.example.com"
    token = csrf_token_from(client.get("/login", base_url=https))
    data = {"csrf_token": token, "identifier": "asha", "password": PASSWORD}
    refused = client.post(
        "/login",
        data=data,
        base_url=https,
        headers={"Origin": "https://evil.example", "Referer": f"{https}/login"},
    )
    assert refused.status_code == 400
    accepted = client.post(
        "/login", data=data, base_url=https, headers={"Origin": https, "Referer": f"{https}/login"}
    )
    assert accepted.status_code == 302


def test_a_log_in_from_another_site_is_refused(client, make_user):
    make_user("asha")
    token = csrf_token_from(client.get("/login"))
    data = {"csrf_token": token, "identifier": "asha", "password": PASSWORD}
    assert client.post("/login", data=data, headers={"Origin": "http://evil.example"}).status_code == 400
    assert client.get("/campaigns/").status_code == 302, "not logged in"


def test_the_one_click_unsubscribe_of_a_mail_provider_still_works(app, client, make_user):
    """RFC 8058: the provider's server posts with no cookie, no CSRF token and no Origin of ours."""
    user = make_user("asha")
    token = UnsubscribeLinks.from_config(app.config).token(user.id, "reader@example.com")
    for headers in ({}, {"Origin": "https://mail.provider.example"}):
        response = client.post(
            f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}, headers=headers
        )
        assert response.status_code == 200
        assert "Content-Security-Policy" in response.headers
    assert db.session.scalars(sa.select(Suppression.address)).all() == ["reader@example.com"]
