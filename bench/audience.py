"""`make bench-audience`: one user's audience of 1,000,000 contacts on PostgreSQL (issue 18, item 8).

Measured so far: importing 100,000 rows into the existing list of 1,000,000 as an upsert (half of them
known addresses with a changed attribute, half new; after one untimed import of as many), timed from
the checked import to the commit (the reading of the file is `bench-import`'s); and the list page,
first, last and searched, as a logged-in browser gets it over the test client (median of
`PAGE_RUNS`). Targets: upsert < 6 s, list pages < 50 ms.
Also segments' counts over the whole list (median of `COUNT_RUNS`; target < 300 ms): two attributes
equal; an attribute equal, a numeric comparison and two history conditions (after 476,191 sent emails of
two campaigns are added); a numeric comparison alone, which reads every contact's score. Tagging
everyone in a segment of 333,334, then untagging them. And scheduling a campaign to a segment of 500,000
of the list's contacts (by tag; 1% of them suppressed), timed as the Schedule button runs it: its merge
fields read from the contacts, the contacts' ids taken by one INSERT … SELECT and the suppressed ones
deleted from them (their count is the summary's), the commit (target < 5 s); the merge fields' reading
is also timed alone, as the draft's page reads them (from the lists and segments, not the taken ids). Then
the writing of its emails that the workers do after, drained here in-process a chunk per commit
(`EMAIL_CHUNK_SIZE`), timed from the first chunk to the last.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.address_import import ColumnMap, ImportResult, MergeField, Recipient
from app.audiences.models import CampaignAudience, ContactList, ContactSource, Segment, Tag
from app.audiences.operations import tag_segment, untag_segment
from app.audiences.queries import contact_count
from app.audiences.segments import segment_contacts
from app.audiences.upsert import upsert_into_list
from app.campaigns.operations import schedule_campaign
from app.campaigns.recipients.audiences import refresh_fields
from app.campaigns.recipients.snapshot import write_chunk
from app.extensions import db
from app.models import Campaign, SMTPSettings, User
from app.states import CampaignStatus
from bench.common import bench_app, result_line, run, vacuum_analyze

CONTACTS = 1_000_000
IMPORTED = 100_000
PAGE_RUNS = 20
COUNT_RUNS = 5
PASSWORD = "bench-audience-password"
SEGMENT = 500_000
#: One contact in this many of the segment is suppressed: scheduling leaves them out.
SUPPRESSED_EVERY = 100


def seed_contacts(user_id: int, list_id: int) -> None:
    """`CONTACTS` contacts with four attributes, all on the list, in two set-based statements: a city,
    a plan, a score (a number, or "n/a" for a tenth of them; the same spread in every city) and the
    date they joined."""
    db.session.execute(
        sa.text(
            "INSERT INTO contact (user_id, address, name, attributes, source, created_at, updated_at) "
            "SELECT :user_id, 'c' || lpad(i::text, 7, '0') || '@rcpt.example', 'Contact ' || i, "
            "jsonb_build_object('city', 'City ' || (i % 500), "
            "'plan', CASE WHEN i % 3 = 0 THEN 'gold' ELSE 'basic' END, "
            "'score', CASE WHEN i / 500 % 10 = 9 THEN 'n/a' ELSE (i / 500 % 100)::text END, "
            "'joined', (DATE '2020-01-01' + i % 2500)::text), 'import', now(), now() "
            "FROM generate_series(0, :n - 1) AS i"
        ),
        {"user_id": user_id, "n": CONTACTS},
    )
    db.session.execute(
        sa.text(
            "INSERT INTO list_member (list_id, contact_id, added_at) SELECT :list_id, id, now() FROM contact"
        ),
        {"list_id": list_id},
    )
    db.session.commit()
    vacuum_analyze(db.engine)


#: The user's sent campaigns: name, every how many contacts got it, how many days ago it was sent.
SENT_CAMPAIGNS = (("Spring", 3, 40), ("Autumn", 7, 3))


def seed_history(user_id: int) -> dict[str, int]:
    """The campaigns of `SENT_CAMPAIGNS`, each sent to every n-th contact (476,191 emails in all);
    returns their ids by name."""
    ids = {}
    for name, every, days_ago in SENT_CAMPAIGNS:
        sent_at = clock.utcnow() - timedelta(days=days_ago)
        campaign = Campaign(
            user_id=user_id,
            name=name,
            status=CampaignStatus.COMPLETED,
            scheduled_at=sent_at,
            completed_at=sent_at,
        )
        db.session.add(campaign)
        db.session.flush()
        db.session.execute(
            sa.text(
                "INSERT INTO email (user_id, campaign_id, address, name, merge_data, status, scheduled_at, "
                "sent_at, attempts) "
                "SELECT :user_id, :campaign_id, 'c' || lpad(i::text, 7, '0') || '@rcpt.example', "
                "'Contact ' || i, '{}', 'sent', :sent_at, :sent_at, 1 "
                "FROM generate_series(0, :n - 1, :every) AS i"
            ),
            {
                "user_id": user_id,
                "campaign_id": campaign.id,
                "sent_at": sent_at,
                "n": CONTACTS,
                "every": every,
            },
        )
        ids[name] = campaign.id
    db.session.commit()
    vacuum_analyze(db.engine)
    return ids


def count_ms(user_id: int, list_id: int, conditions: list[dict[str, str]]) -> tuple[int, float]:
    """A segment's count as its page makes it: (how many match, median ms of `COUNT_RUNS`)."""
    segment = Segment(
        user_id=user_id, name=f"Segment {len(conditions)}", list_id=list_id, conditions=conditions
    )
    times = []
    for _ in range(COUNT_RUNS):
        start = time.perf_counter()
        matching = contact_count(segment_contacts(segment))
        times.append((time.perf_counter() - start) * 1000)
    return matching, statistics.median(times)


def import_of(rows: int, run: str) -> ImportResult:
    """A checked import: the first half known contacts whose city changed, the second half new (each
    `run` its own known and new addresses)."""
    step = CONTACTS // (rows // 2)
    known = [
        Recipient(f"c{i:07d}@rcpt.example", f"Contact {i}", {"city": f"Moved {run}", "plan": "basic"})
        for i in range(len(run), CONTACTS, step)
    ]
    new = [
        Recipient(f"n{run}{i:07d}@rcpt.example", f"New {i}", {"city": "New", "plan": "basic"})
        for i in range(rows // 2)
    ]
    fields = [MergeField("city", "city", ""), MergeField("plan", "plan", "")]
    return ImportResult(known + new, [], [], [], ColumnMap("email", "name"), fields)


@dataclass(frozen=True)
class Scheduling:
    """Scheduling to the segment: the contacts taken, seconds for the Schedule button and for reading the
    merge fields alone; then the emails written after, the chunks and seconds it took."""

    contacts: int
    schedule_s: float
    fields_s: float
    emails: int
    chunks: int
    write_s: float


def schedule_to_segment(user_id: int, list_id: int, chunk_size: int) -> Scheduling:
    """Tag `SEGMENT` of the seeded contacts (every other one), suppress 1% of those, and time scheduling
    a draft sent to the segment of the tagged ones, then the writing of its emails."""
    tag_id = db.session.execute(
        sa.text("INSERT INTO tag (user_id, name) VALUES (:user_id, 'even') RETURNING id"),
        {"user_id": user_id},
    ).scalar_one()
    db.session.execute(
        sa.text(
            "INSERT INTO contact_tag (tag_id, contact_id) SELECT :tag_id, id FROM contact "
            "WHERE user_id = :user_id AND address LIKE 'c%' AND id % 2 = 0 ORDER BY id LIMIT :n"
        ),
        {"tag_id": tag_id, "user_id": user_id, "n": SEGMENT},
    )
    db.session.execute(
        sa.text(
            "INSERT INTO suppression (user_id, address, reason, created_at) "
            "SELECT :user_id, lower(contact.address), 'unsubscribed', now() FROM contact_tag "
            "JOIN contact ON contact.id = contact_tag.contact_id WHERE contact_tag.tag_id = :tag_id "
            "AND contact.id % (2 * :every) = 0"
        ),
        {"tag_id": tag_id, "user_id": user_id, "every": SUPPRESSED_EVERY},
    )
    segment = Segment(
        user_id=user_id,
        name="Even",
        list_id=list_id,
        conditions=[{"kind": "tag", "key": "", "op": "equals", "value": "even"}],
    )
    account = SMTPSettings(user_id=user_id, host="127.0.0.1", port=2525, from_address="bench@example.com")
    campaign = Campaign(
        user_id=user_id,
        name="To the even half",
        subject="News for {{ city }}",
        html_body="<p>Hello {{ name }} in {{ city }}, on {{ plan }}, at {{ company | default('home') }}.</p>",
        text_body="Hello {{ name }}",
        text_edited=True,
        merge_fields=[],
    )
    db.session.add_all([segment, account, campaign])
    db.session.flush()
    db.session.add(CampaignAudience(user_id=user_id, campaign_id=campaign.id, segment_id=segment.id))
    db.session.commit()
    vacuum_analyze(db.engine)
    campaign = db.session.get(Campaign, campaign.id)
    start = time.perf_counter()
    refresh_fields(campaign)
    fields_s = time.perf_counter() - start
    db.session.rollback()
    campaign = db.session.get(Campaign, campaign.id)
    account = db.session.get(SMTPSettings, account.id)
    start = time.perf_counter()
    created, skipped = schedule_campaign(campaign, account, send_at=campaign.created_at)
    db.session.commit()
    schedule_s = time.perf_counter() - start
    assert skipped == SEGMENT // SUPPRESSED_EVERY, skipped
    assert created == SEGMENT - skipped, created
    start, emails, chunks, more = time.perf_counter(), 0, 0, True
    while more:
        chunk = write_chunk(campaign.id, chunk_size)
        db.session.commit()
        emails, chunks, more = emails + chunk.emails, chunks + 1, chunk.more
    write_s = time.perf_counter() - start
    assert emails == created, emails
    return Scheduling(created, schedule_s, fields_s, emails, chunks, write_s)


def page_ms(client, url: str) -> float:
    times = []
    for _ in range(PAGE_RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times)


def main() -> None:
    with bench_app("bench_audience", {}) as bench:
        user = User(username="bench", email="bench@example.com")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        contact_list = ContactList(user_id=user.id, name="Everyone")
        db.session.add(contact_list)
        db.session.commit()
        list_id, user_id = contact_list.id, user.id
        start = time.perf_counter()
        seed_contacts(user_id, list_id)
        print(f"seeded {CONTACTS:,} contacts on one list in {time.perf_counter() - start:.1f} s")

        # One untimed import first, as a list in use has been imported into: the timed one then finds the
        # contacts' pages and indexes in memory, not on disk after the seeding.
        warm_up = import_of(IMPORTED, "w")
        upsert_into_list(db.session(), db.session.get(ContactList, list_id), warm_up, ContactSource.IMPORT)
        db.session.commit()
        vacuum_analyze(db.engine)
        result = import_of(IMPORTED, "timed")
        start = time.perf_counter()
        summary = upsert_into_list(
            db.session(), db.session.get(ContactList, list_id), result, ContactSource.IMPORT
        )
        db.session.commit()
        upsert_s = time.perf_counter() - start
        print(f"upsert of {IMPORTED:,} rows into {CONTACTS:,}: {upsert_s:.2f} s ({summary})")
        vacuum_analyze(db.engine)

        client = bench.app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
        client.post("/login", data={"csrf_token": token, "identifier": "bench", "password": PASSWORD})
        first = page_ms(client, f"/audience/lists/{list_id}")
        last = page_ms(client, f"/audience/lists/{list_id}?last=1")
        search = page_ms(client, f"/audience/lists/{list_id}?q=c0999")
        print(
            f"list page of {CONTACTS + IMPORTED:,}: first {first:.1f} ms, last {last:.1f} ms, "
            f"search {search:.1f} ms"
        )
        city_gold = [
            {"kind": "attribute", "key": "city", "op": "equals", "value": "City 7"},
            {"kind": "attribute", "key": "plan", "op": "equals", "value": "gold"},
        ]
        matching, segment_ms = count_ms(user_id, list_id, city_gold)
        print(f"segment count, city and plan equal ({matching:,} of them): {segment_ms:.1f} ms")
        campaign_ids = seed_history(user_id)
        rich = [
            {"kind": "attribute", "key": "city", "op": "equals", "value": "City 7"},
            {"kind": "attribute", "key": "score", "op": "at least", "value": "50"},
            {"kind": "received", "value": str(campaign_ids["Spring"])},
            {"kind": "not received", "value": "7"},
        ]
        rich_matching, rich_ms = count_ms(user_id, list_id, rich)
        print(
            f"segment count, city equal, score at least 50, received Spring, no campaign in 7 days "
            f"({rich_matching:,} of them): {rich_ms:.1f} ms"
        )
        numeric = [{"kind": "attribute", "key": "score", "op": "greater than", "value": "97"}]
        numeric_matching, numeric_ms = count_ms(user_id, list_id, numeric)
        print(
            f"segment count, score greater than 97 alone ({numeric_matching:,} of them): {numeric_ms:.1f} ms"
        )
        gold = Segment(user_id=user_id, name="Gold", list_id=list_id, conditions=city_gold[1:])
        db.session.add(gold)
        db.session.commit()
        start = time.perf_counter()
        tagged = tag_segment(gold, "gold member")
        db.session.commit()
        tag_s = time.perf_counter() - start
        start = time.perf_counter()
        untagged = untag_segment(
            gold, db.session.scalars(sa.select(Tag).where(Tag.name == "gold member")).one()
        )
        db.session.commit()
        untag_s = time.perf_counter() - start
        print(
            f"tagging everyone in a segment of {tagged:,}: {tag_s:.2f} s; "
            f"untagging {untagged:,}: {untag_s:.2f} s"
        )
        scheduling = schedule_to_segment(user_id, list_id, bench.app.config["EMAIL_CHUNK_SIZE"])
        print(
            f"scheduling a campaign to a segment of {SEGMENT:,}: {scheduling.schedule_s:.2f} s "
            f"({scheduling.contacts:,} contacts; its merge fields alone {scheduling.fields_s:.2f} s); "
            f"writing their emails after: {scheduling.write_s:.2f} s "
            f"({scheduling.emails:,} emails in {scheduling.chunks} chunks)"
        )
        print(bench.describe())
        print(
            result_line(
                upsert_100k_into_1m_s=upsert_s,
                list_first_page_ms=first,
                list_last_page_ms=last,
                list_search_ms=search,
                segment_count_ms=segment_ms,
                segment_history_count_ms=rich_ms,
                segment_numeric_only_ms=numeric_ms,
                tag_segment_s=tag_s,
                untag_segment_s=untag_s,
                schedule_500k_segment_s=scheduling.schedule_s,
                merge_fields_500k_s=scheduling.fields_s,
                write_500k_emails_s=scheduling.write_s,
            )
        )


if __name__ == "__main__":
    run(main)
