"""Does a dashboard opened before a campaign's time know when to look again?"""

from __future__ import annotations

from datetime import timedelta

from app.states import CampaignStatus
from tests.builders import add_campaign, make_account
from tests.dashboard.conftest import NOW


def test_the_dashboard_looks_again_when_the_first_scheduled_campaign_is_due(client, logged_in, frozen_now):
    account = make_account(logged_in)
    add_campaign(logged_in, account, CampaignStatus.SCHEDULED, scheduled_at=NOW + timedelta(hours=2))
    add_campaign(logged_in, account, CampaignStatus.SCHEDULED, scheduled_at=NOW + timedelta(minutes=10))
    add_campaign(logged_in, account, CampaignStatus.PAUSED, scheduled_at=NOW + timedelta(minutes=1))
    stats = client.get("/dashboard/stats").get_json()
    assert (stats["in_flight"], stats["starts_in"]) == (False, 600)
    page = client.get("/").get_data(as_text=True)
    assert 'data-in-flight="false" data-starts-in="600.0"' in page


def test_nothing_scheduled_means_nothing_to_look_again_for(client, logged_in, frozen_now):
    add_campaign(logged_in, make_account(logged_in), CampaignStatus.COMPLETED)
    assert client.get("/dashboard/stats").get_json()["starts_in"] is None
    assert 'data-starts-in=""' in client.get("/").get_data(as_text=True)


def test_another_users_scheduled_campaign_is_not_mine_to_wait_for(client, logged_in, make_user, frozen_now):
    other = make_user()
    add_campaign(
        other, make_account(other), CampaignStatus.SCHEDULED, scheduled_at=NOW + timedelta(minutes=5)
    )
    assert client.get("/dashboard/stats").get_json()["starts_in"] is None


def test_while_sending_the_dashboard_refreshes_without_waiting_for_a_start(client, logged_in, frozen_now):
    account = make_account(logged_in)
    add_campaign(logged_in, account, CampaignStatus.SENDING)
    add_campaign(logged_in, account, CampaignStatus.SCHEDULED, scheduled_at=NOW + timedelta(minutes=5))
    stats = client.get("/dashboard/stats").get_json()
    assert (stats["in_flight"], stats["starts_in"]) == (True, None)
