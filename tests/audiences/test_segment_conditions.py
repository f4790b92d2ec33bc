"""Richer segment conditions: do numbers and dates typed in an upload compare as numbers and dates, does
a cell that is neither simply not match (never an error, on PostgreSQL too), and does a segment know
which of the user's campaigns reached a contact, and when?"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.audiences.models import Segment
from app.extensions import db
from app.states import CampaignStatus, EmailStatus
from tests.audiences.conftest import condition_fields, save_segment
from tests.builders import add_campaign, add_emails
from tests.conftest import post_form

#: 20:00 UTC on 2 December is 01:30 on 3 December in Kolkata, the users' default zone.
NOW = datetime(2026, 12, 2, 20, 0)
NAMES = ("asha", "ravi", "meera", "john", "zoe")
CONTACTS = (
    b"email,name,score,joined\n"
    b"asha@example.com,Asha,42,2026-03-01\n"
    b"ravi@example.com,Ravi,7.5,2025-12-31 09:30:00\n"
    b"meera@example.com,Meera,n/a,01/03/2026\n"
    b"john@example.com,John,,soon\n"
    b"zoe@example.com,Zoe,-3,2026-12-03T08:00\n"
)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)


@pytest.fixture
def imported(list_import, logged_in):
    list_import.upload_and_confirm(CONTACTS)
    return list_import


def matching(page: str) -> set[str]:
    """Who the segment's page lists, and checks that its count says as many."""
    listed = page[page.index('id="contacts"') :] if 'id="contacts"' in page else ""
    found = {name for name in NAMES if f"{name}@example.com" in listed}
    assert f"{len(found)} contact{'' if len(found) == 1 else 's'} match now." in page
    return found


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("greater than", "7.5", {"asha"}),
        ("less than", "7.5", {"zoe"}),
        ("at least", "7.5", {"asha", "ravi"}),
        ("at most", "7.50", {"ravi", "zoe"}),
        ("greater than", "-10", {"asha", "ravi", "zoe"}),
    ],
)
def test_a_number_compares_as_a_number_and_a_cell_that_is_not_one_never_matches(
    client, imported, customers, op, value, expected
):
    page = save_segment(client, "Scores", customers.id, ("attribute", "score", op, value))
    assert matching(page.get_data(as_text=True)) == expected


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("before", "2026-03-01", {"ravi"}),
        ("after", "2026-03-01", {"zoe"}),
        ("after", "2025-12-30", {"asha", "ravi", "zoe"}),
        ("in the last days", "1", {"zoe"}),
        ("in the last days", "300", {"asha", "zoe"}),
    ],
)
def test_a_date_compares_as_a_date_and_a_cell_that_is_not_one_never_matches(
    client, imported, customers, op, value, expected
):
    """ISO dates, with or without a time; "01/03/2026" and "soon" are no dates. Zoe joined "today" in
    Kolkata (3 December) though it is still 2 December in UTC."""
    page = save_segment(client, "Joined", customers.id, ("attribute", "joined", op, value))
    assert matching(page.get_data(as_text=True)) == expected


def test_a_number_or_date_comparison_on_a_column_of_words_matches_nobody(client, imported, customers):
    page = save_segment(
        client,
        "Words",
        customers.id,
        ("attribute", "name", "at least", "0"),
        ("attribute", "name", "after", "1900-01-01"),
    )
    assert matching(page.get_data(as_text=True)) == set()


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (("attribute", "score", "greater than", "ten"), "“ten” is not a number: type digits"),
        (("attribute", "score", "at most", "1,000"), "“1,000” is not a number"),
        (
            ("attribute", "joined", "before", "01/03/2026"),
            "“01/03/2026” is not a date: type it as year-month-day",
        ),
        (("attribute", "joined", "after", "2026-02-30"), "“2026-02-30” is not a date"),
        (("attribute", "joined", "in the last days", "0"), "“0” is not a number of days"),
        (("attribute", "joined", "in the last days", "a week"), "“a week” is not a number of days"),
        (("not received", "", "equals", "soon"), "“soon” is not a number of days"),
        (("not received", "", "equals", "²"), "“²” is not a number of days"),
        (("attribute", "score", "bigger than", "5"), "“bigger than” is not an operator here"),
        (("received", "", "equals", ""), "Choose one of your campaigns."),
    ],
)
def test_a_value_that_cannot_be_compared_is_refused_and_what_was_typed_stays(
    client, customers, condition, message
):
    data = {"name": "Broken", "list_id": str(customers.id), **condition_fields(condition)}
    response = post_form(client, "/audience/segments", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="Broken"' in page
    if condition[3]:
        assert f'value="{condition[3]}"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_numbers_and_dates_are_saved_in_one_spelling(client, imported, customers):
    page = save_segment(
        client,
        "Spelled",
        customers.id,
        ("attribute", "score", "at least", "+07.50"),
        ("attribute", "joined", "after", " 2025-01-01 "),
    ).get_data(as_text=True)
    assert "score at least 7.50" in page
    assert "joined after 2025-01-01" in page
    assert matching(page) == {"asha", "ravi"}


@pytest.fixture
def campaigns(imported, logged_in):
    """Spring went to Asha 3 days ago and to Ravi 40 days ago (a bounce afterwards is still a send);
    it failed for Meera. Autumn, scheduled, has sent nothing yet."""
    spring = add_campaign(logged_in, None, CampaignStatus.COMPLETED, name="Spring")
    add_emails(spring, 1, EmailStatus.SENT, address="ASHA@example.com", sent_at=NOW - timedelta(days=3))
    add_emails(spring, 1, EmailStatus.BOUNCED, address="ravi@example.com", sent_at=NOW - timedelta(days=40))
    add_emails(spring, 1, EmailStatus.FAILED, address="meera@example.com")
    autumn = add_campaign(logged_in, None, CampaignStatus.SCHEDULED, name="Autumn")
    add_emails(autumn, 1, EmailStatus.PENDING, address="john@example.com")
    return {"spring": spring.id, "autumn": autumn.id}


def test_received_campaign_means_an_email_of_it_was_sent_to_the_contact(client, campaigns, customers):
    spring = save_segment(
        client, "Got spring", customers.id, ("received", "", "equals", "", campaigns["spring"])
    )
    assert matching(spring.get_data(as_text=True)) == {"asha", "ravi"}
    assert "received “Spring”" in spring.get_data(as_text=True)
    autumn = save_segment(
        client, "Got autumn", customers.id, ("received", "", "equals", "", campaigns["autumn"])
    )
    assert matching(autumn.get_data(as_text=True)) == set()


@pytest.mark.parametrize(("days", "expected"), [("30", {"ravi", "meera", "john", "zoe"}), ("2", set(NAMES))])
def test_no_campaign_for_days_means_nothing_was_sent_to_the_contact_since(
    client, campaigns, customers, days, expected
):
    page = save_segment(client, "Quiet", customers.id, ("not received", "", "equals", days))
    assert matching(page.get_data(as_text=True)) == expected
    assert f"received no campaign in the last {days} days" in page.get_data(as_text=True)


def test_the_campaigns_offered_are_the_users_own_that_have_sent_or_will(
    client, campaigns, logged_in, make_user
):
    other = make_user("other")
    add_campaign(other, None, CampaignStatus.COMPLETED, name="Their newsletter")
    add_campaign(logged_in, None, CampaignStatus.DRAFT, name="Unfinished draft")
    page = client.get("/audience/segments").get_data(as_text=True)
    assert "Spring" in page
    assert "Autumn" in page
    assert "Their newsletter" not in page
    assert "Unfinished draft" not in page


def test_another_users_campaign_can_neither_be_chosen_nor_match(
    client, campaigns, customers, logged_in, make_user
):
    other = make_user("other")
    theirs = add_campaign(other, None, CampaignStatus.COMPLETED, name="Their newsletter")
    add_emails(theirs, 1, EmailStatus.SENT, address="asha@example.com", sent_at=NOW)
    data = {
        "name": "Stolen",
        "list_id": str(customers.id),
        **condition_fields(("received", "", "equals", "", theirs.id)),
    }
    refused = post_form(client, "/audience/segments", data)
    assert refused.status_code == 400
    assert "Choose one of your campaigns." in refused.get_data(as_text=True)
    # Even a condition naming their campaign directly in the database matches no one, and shows no name.
    forged = Segment(
        user_id=logged_in.id,
        name="Forged",
        list_id=customers.id,
        conditions=[{"kind": "received", "value": str(theirs.id)}],
    )
    db.session.add(forged)
    db.session.commit()
    page = client.get(f"/audience/segments/{forged.id}").get_data(as_text=True)
    assert matching(page) == set()
    assert "Their newsletter" not in page
    assert "received “a deleted campaign”" in page
