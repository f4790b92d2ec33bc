"""Is every campaign and template page closed to other users, to visitors, and to forged forms?"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Template
from app.states import CampaignStatus
from tests.builders import make_account, make_campaign, reload
from tests.conftest import csrf_token_from

# (method, url) for every campaign route of this area; {c} is a campaign id, {t} a template id.
CAMPAIGN_ROUTES = [
    ("GET", "/campaigns/{c}"),
    ("GET", "/campaigns/{c}/edit"),
    ("POST", "/campaigns/{c}/edit"),
    ("POST", "/campaigns/{c}/schedule"),
    ("POST", "/campaigns/{c}/unschedule"),
    ("POST", "/campaigns/{c}/pause"),
    ("POST", "/campaigns/{c}/resume"),
    ("POST", "/campaigns/{c}/cancel"),
    ("POST", "/campaigns/{c}/duplicate"),
    ("GET", "/campaigns/{c}/delete"),
    ("POST", "/campaigns/{c}/delete"),
    ("POST", "/campaigns/{c}/send-test"),
    ("POST", "/campaigns/{c}/save-as-template"),
]
TEMPLATE_ROUTES = [
    ("GET", "/campaigns/templates/{t}/edit"),
    ("POST", "/campaigns/templates/{t}/edit"),
    ("POST", "/campaigns/templates/{t}/delete"),
    ("GET", "/campaigns/new?template={t}"),
]
FORM_DATA = {
    "name": "Taken over",
    "subject": "Taken over",
    "html_body": "<p>x</p>",
    "when": "now",
    "timezone": "Asia/Kolkata",
}


@pytest.fixture
def others(make_user):
    """Another user's scheduled campaign and template."""
    other = make_user()
    make_account(other)
    campaign = make_campaign(other, status=CampaignStatus.SCHEDULED, name="Their sale")
    template = Template(user_id=other.id, name="Their template")
    db.session.add(template)
    db.session.commit()
    return campaign, template


def request(client, method, url, token=None):
    data = {**FORM_DATA, "csrf_token": token} if token else FORM_DATA
    return client.get(url) if method == "GET" else client.post(url, data=data)


@pytest.mark.parametrize(("method", "url"), CAMPAIGN_ROUTES + TEMPLATE_ROUTES)
def test_another_users_campaign_or_template_is_a_404(client, logged_in, others, method, url):
    campaign, template = others
    token = csrf_token_from(client.get("/campaigns/new"))
    response = request(client, method, url.format(c=campaign.id, t=template.id), token)
    assert response.status_code == 404
    campaign = reload(campaign)
    assert (campaign.name, campaign.status, campaign.deleted_at) == (
        "Their sale",
        CampaignStatus.SCHEDULED,
        None,
    )
    db.session.expire_all()
    assert db.session.get(Template, template.id).name == "Their template"


@pytest.mark.parametrize(("method", "url"), CAMPAIGN_ROUTES)
def test_a_missing_campaign_is_a_404(client, logged_in, method, url):
    token = csrf_token_from(client.get("/campaigns/new"))
    assert request(client, method, url.format(c=999), token).status_code == 404


POSTS = [url for method, url in CAMPAIGN_ROUTES + TEMPLATE_ROUTES if method == "POST"] + [
    "/campaigns/new",
    "/campaigns/templates/new",
]


@pytest.mark.parametrize("url", POSTS)
def test_every_form_refuses_a_post_without_its_csrf_token(client, logged_in, url):
    campaign = make_campaign(logged_in)
    template = Template(user_id=logged_in.id, name="Mine")
    db.session.add(template)
    db.session.commit()
    response = client.post(url.format(c=campaign.id, t=template.id), data=FORM_DATA)
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)
    assert reload(campaign).name == "Spring sale"


@pytest.mark.parametrize("url", ["/campaigns/", "/campaigns/new", "/campaigns/1", "/campaigns/templates/"])
def test_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
