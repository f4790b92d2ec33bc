"""A campaign sent to lists and segments: which ones, who that is today, and the snapshot scheduling takes.

A campaign's recipients come from one source at a time: an upload (its `CampaignRecipient` rows) or
audiences (its `CampaignAudience` rows). Choosing audiences replaces an upload, after the user confirmed
it, and saving an upload replaces the audiences; so the Recipients page always says exactly who it goes to.

The contacts are resolved when the campaign is scheduled, set-based whatever the size: the union of the
lists' and segments' contact ids (a contact on two of them is one id), minus the suppressed addresses,
kept as the campaign's contacts by one INSERT … SELECT, their `Email` rows written after in chunks
(`app.campaigns.recipients.snapshot`). The engine sends those rows as it sends an upload's, and a contact
added to a list afterwards is not mailed by this campaign.

Merge fields are the attributes every mailed contact has (an import leaves an empty cell out, so a
contact with an empty `company` lacks it): a field only some have is unknown, and blocks scheduling as an
upload's missing column does unless the template gives it a fallback (`{{ company | default('there') }}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audiences.models import CampaignAudience, Contact, ContactList, ListMember, Segment
from app.audiences.queries import COUNTED_UP_TO, contact_count, lists_by_name
from app.audiences.segments import segment_contacts
from app.extensions import db
from app.models import Campaign, CampaignRecipient
from app.wording import counted

#: Wide enough for any value's length, so that the largest `padded length || value` is the longest value.
_LENGTH_DIGITS = 10


@dataclass(frozen=True)
class AudienceCount:
    """The contacts of a campaign's lists and segments, each once: how many, and how many of them are
    suppressed (unsubscribed, bounced, complained or suppressed by hand), so left out."""

    contacts: int
    suppressed: int

    @property
    def mailed(self) -> int:
        return self.contacts - self.suppressed


@dataclass(frozen=True)
class Addressee:
    """A contact as the preview's chooser offers it, shaped like an uploaded recipient."""

    id: int
    address: str
    name: str
    merge_data: dict[str, Any]


def audiences_of(campaign: Campaign) -> list[CampaignAudience]:
    return list(
        db.session.scalars(
            sa.select(CampaignAudience)
            .where(CampaignAudience.campaign_id == campaign.id, CampaignAudience.user_id == campaign.user_id)
            .order_by(CampaignAudience.id)
        )
    )


def has_audiences(campaign: Campaign) -> bool:
    chosen = sa.select(CampaignAudience.id).where(CampaignAudience.campaign_id == campaign.id)
    return bool(db.session.scalar(sa.select(chosen.exists())))


def choose_audiences(
    session: Session, campaign: Campaign, lists: Sequence[ContactList], segments: Sequence[Segment]
) -> None:
    """Send the campaign to these lists and segments instead of whatever it had (an upload included), and
    take its merge fields from their contacts as they are now. Never commits."""
    session.execute(sa.delete(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id))
    clear_audiences(session, campaign)
    owner = {"user_id": campaign.user_id, "campaign_id": campaign.id}
    session.add_all(
        [CampaignAudience(**owner, list_id=item.id) for item in lists]
        + [CampaignAudience(**owner, segment_id=item.id) for item in segments]
    )
    session.flush()
    refresh_fields(campaign)


def clear_audiences(session: Session, campaign: Campaign) -> None:
    session.execute(sa.delete(CampaignAudience).where(CampaignAudience.campaign_id == campaign.id))


def audience_contacts(campaign: Campaign) -> sa.Select[Contact]:
    """The contacts of the campaign's lists and segments, each once, suppressed ones included."""
    return sa.select(Contact).where(
        Contact.user_id == campaign.user_id, Contact.id.in_(audience_ids(campaign))
    )


def audience_ids(campaign: Campaign) -> sa.Select[Any]:
    """The ids of the contacts of the campaign's lists and segments, each once, suppressed ones included
    (every source is the user's own, and reads only the user's contacts)."""
    sources: list[sa.Select[Any]] = []
    for audience in audiences_of(campaign):
        if audience.list_id is not None:
            sources.append(sa.select(ListMember.contact_id).where(ListMember.list_id == audience.list_id))
        else:
            segment = db.session.get(Segment, audience.segment_id)
            assert segment is not None, "a deleted segment takes its choice with it"
            sources.append(segment_contacts(segment).with_only_columns(Contact.id))
    if len(sources) > 1:
        return sa.select(sa.union(*sources).subquery())
    return sources[0] if sources else sa.select(sa.null()).where(sa.false())


def mailed_contacts(campaign: Campaign) -> sa.Select[Contact]:
    return audience_contacts(campaign).where(Contact.suppression_reason.is_(None))


def audience_count(campaign: Campaign) -> AudienceCount:
    contacts = audience_contacts(campaign).subquery()
    total, left_out = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(contacts.c.suppression_reason)).select_from(contacts)
    ).one()
    return AudienceCount(total, left_out)


def first_addressees(campaign: Campaign, limit: int, contact_id: int | None = None) -> list[Addressee]:
    """The first mailed contacts in id order (or only the one with `contact_id`), for the preview."""
    query = mailed_contacts(campaign)
    if contact_id is not None:
        query = query.where(Contact.id == contact_id)
    contacts = db.session.scalars(query.order_by(Contact.id).limit(limit))
    return [Addressee(person.id, person.address, person.name, dict(person.attributes)) for person in contacts]


#: Up to this many mailed contacts, a draft's page reads its merge fields again on every view (a few
#: tenths of a second at this size); above it they stay as read when its lists and segments were chosen
#: (6-9 s at 500,000), and Schedule reads them again (`refresh_complete_fields`).
FIELDS_READ_ON_VIEW_UP_TO = 20_000


def refresh_fields(campaign: Campaign) -> None:
    """The campaign's merge fields become the attributes every mailed contact has, and its longest values
    (for the templates' trial render) the longest of each among them, in one pass over the contacts."""
    contacts = mailed_contacts(campaign).subquery()
    dialect = db.session.connection().dialect.name
    rows = db.session.execute(_fields_query(contacts, dialect)).all()
    names = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.max(_by_length(contacts.c.name, dialect)),
            sa.func.max(_by_length(contacts.c.address, dialect)),
        )
    ).one()
    total = names[0]
    complete = sorted((key, longest) for key, count, longest in rows if total and count == total)
    campaign.merge_fields = [{"key": key, "header": key} for key, _ in complete]
    campaign.longest_values = (
        {
            "name": _unpadded(names[1]),
            "email": _unpadded(names[2]),
            **{key: _unpadded(longest) for key, longest in complete},
        }
        if total
        else None
    )


def refresh_complete_fields(campaign: Campaign, mailed: sa.Select[Contact], total: int) -> None:
    """At schedule: the campaign's merge fields become the attributes all `total` contacts of `mailed`
    have, in one pass that only counts each key. The longest values stay as `refresh_fields` last read
    them (when the lists were chosen, or on the draft's page of a small audience), less the fields no
    longer complete: reading them again took 2.3 s of the Schedule button's 5 s at 500,000 contacts,
    counting the keys 1.0 s."""
    contacts = mailed.subquery()
    dialect = db.session.connection().dialect.name
    if dialect == "postgresql":
        keys = sa.func.jsonb_object_keys(contacts.c.attributes).table_valued("key").render_derived().lateral()
    else:
        keys = sa.func.json_each(contacts.c.attributes).table_valued("key")
    each_key = sa.select(keys.c.key, sa.func.count()).select_from(contacts).join(keys, sa.true())
    counts = db.session.execute(each_key.group_by(keys.c.key))
    complete = sorted(key for key, count in counts if total and count == total)
    campaign.merge_fields = [{"key": key, "header": key} for key in complete]
    kept = {"name", "email", *complete}
    longest = campaign.longest_values or {}
    campaign.longest_values = {key: value for key, value in longest.items() if key in kept} if total else None


def _fields_query(contacts: sa.Subquery, dialect: str) -> sa.Select[Any]:
    """Each attribute key among `contacts`: how many have it, and its longest value (padded)."""
    if dialect == "postgresql":
        each = sa.func.jsonb_each_text(contacts.c.attributes).table_valued("key", "value").lateral()
    else:
        each = sa.func.json_each(contacts.c.attributes).table_valued("key", "value")
    return (
        sa.select(each.c.key, sa.func.count(), sa.func.max(_by_length(each.c.value, dialect)))
        .select_from(contacts)
        .join(each, sa.true())
        .group_by(each.c.key)
    )


def _by_length(value: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[str]:
    """`value` behind its zero-padded length, so `max()` picks the longest value in the same pass."""
    text = sa.cast(value, sa.Text)
    if dialect == "postgresql":
        padded = sa.func.lpad(sa.cast(sa.func.length(text), sa.Text), _LENGTH_DIGITS, "0")
    else:
        padded = sa.func.printf(f"%0{_LENGTH_DIGITS}d", sa.func.length(text))
    return padded.concat(text)


def _unpadded(by_length: str | None) -> str:
    return (by_length or "")[_LENGTH_DIGITS:]


@dataclass(frozen=True)
class Choices:
    """The user's lists and segments as the Recipients page offers them, each with its live count."""

    lists: list[tuple[int, str]]
    segments: list[tuple[int, str]]


def audience_choices(user_id: int) -> Choices:
    lists = [(item.id, f"{item.name} ({_contacts(item.member_count)})") for item in lists_by_name(user_id)]
    segments = [
        (segment.id, f"{segment.name} ({_contacts(contact_count(segment_contacts(segment)))})")
        for segment in db.session.scalars(
            sa.select(Segment).where(Segment.user_id == user_id).order_by(Segment.name)
        )
    ]
    return Choices(lists, segments)


def _contacts(count: int) -> str:
    if count > COUNTED_UP_TO:
        return f"more than {COUNTED_UP_TO:,} contacts"
    return counted(count, "contact")


class Chosen(NamedTuple):
    """A list or a segment the campaign goes to, as its pages name and link it."""

    kind: str
    id: int
    name: str


def chosen(campaign: Campaign) -> list[Chosen]:
    """What the campaign goes to, in the order it was chosen ("list", "segment")."""
    found = []
    for audience in audiences_of(campaign):
        if audience.list_id is not None:
            contact_list = db.session.get(ContactList, audience.list_id)
            found.append(Chosen("list", audience.list_id, contact_list.name if contact_list else "?"))
        elif audience.segment_id is not None:
            segment = db.session.get(Segment, audience.segment_id)
            found.append(Chosen("segment", audience.segment_id, segment.name if segment else "?"))
    return found
