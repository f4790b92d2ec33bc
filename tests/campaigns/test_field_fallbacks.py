"""A merge field with a fallback does not need a column: only fields read without one are flagged."""

from __future__ import annotations

import pytest

from app.campaigns.personalise import HTML, Part, check_message
from app.states import CampaignStatus
from tests.builders import emails_of, make_account, make_campaign, reload
from tests.conftest import post_form

KNOWN = ["name", "email", "unsubscribe_url"]


def unknown_fields(source: str) -> list[str]:
    return [str(problem) for problem in check_message([Part(HTML, source)], KNOWN)]


@pytest.mark.parametrize(
    "source",
    [
        "Hello from {{ company | default('our shop') }}",
        "Hello from {{ company|d('our shop') }}",
        "{{ company | default('our shop') | upper }}",
        "{% if company is defined %}{{ company }}{% endif %}",
        "{% if company is not defined %}our shop{% else %}{{ company }}{% endif %}",
        "{% if company is undefined %}our shop{% elif company %}{{ company }}{% endif %}",
        "{{ company if company is defined else 'our shop' }}",
        "{% if company is defined and company != '' %}{{ company }}{% endif %}",
        "{{ name }} at {{ city | default(company | default('home')) }}",
    ],
)
def test_a_field_with_a_fallback_is_not_flagged(source):
    assert unknown_fields(source) == []


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("Hello from {{ company }}", ["HTML, line 1: {{ company }} is not a field of your recipients"]),
        (
            "{{ company | default('shop') }}\n{{ company }}",
            ["HTML, line 2: {{ company }} is not a field of your recipients"],
        ),
        (
            "{{ company | upper | default('shop') }}",
            ["HTML, line 1: {{ company }} is not a field of your recipients"],
        ),
        (
            "{% if city is defined %}{{ company }}{% endif %}",
            ["HTML, line 1: {{ company }} is not a field of your recipients"],
        ),
        (
            "{% if company is defined %}{% else %}{{ company }}{% endif %}",
            ["HTML, line 1: {{ company }} is not a field of your recipients"],
        ),
        (
            "{{ city | default(company) }}",
            ["HTML, line 1: {{ company }} is not a field of your recipients"],
        ),
        (
            "{% if company is defined or city %}{{ company }}{% endif %}",
            [
                "HTML, line 1: {{ city }} is not a field of your recipients",
                "HTML, line 1: {{ company }} is not a field of your recipients",
            ],
        ),
    ],
)
def test_a_field_read_without_a_fallback_is_still_flagged(source, flagged):
    assert unknown_fields(source) == flagged


def schedule_now(client, campaign):
    return post_form(
        client,
        f"/campaigns/{campaign.id}/schedule",
        {"when": "now", "timezone": "Asia/Kolkata"},
        follow_redirects=True,
    )


def test_a_campaign_whose_missing_field_has_a_fallback_can_be_scheduled(client, logged_in):
    make_account(logged_in)
    campaign = make_campaign(
        logged_in,
        html_body="<p>{{ code }} from {{ company | default('our shop') }}</p>",
        text_body="{{ code }} from {{ company | default('our shop') }}\n",
    )
    page = schedule_now(client, campaign).get_data(as_text=True)
    assert "is not a field of your recipients" not in page
    assert reload(campaign).status == CampaignStatus.SCHEDULED
    assert len(emails_of(campaign)) == 3


def test_the_fallback_is_rendered_on_trial_like_any_value():
    assert check_message([Part(HTML, "{{ company | default(1 / 0) }}")], KNOWN)[0].message.startswith(
        "ZeroDivisionError"
    )
