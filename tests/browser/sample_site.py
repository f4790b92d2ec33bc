"""A site full of realistic data, so every page shows its tables, badges and warnings filled in.

One user with an SMTP account (cooling down after a rate limit), a campaign in every status with sent,
failed and suppressed emails, a draft with recipients, an upload waiting for review, saved templates
and suppressions of every reason; and a newcomer with nothing yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from app import clock
from app.address_import import UploadLimits, import_upload
from app.audiences.models import Contact, ContactList, ContactSource, Segment
from app.audiences.operations import tag_contacts
from app.audiences.signup.links import ConfirmationLinks
from app.audiences.signup.models import ListSignup, SignupRequest, SignupStatus
from app.audiences.signup.operations import REFUSAL_ADVICE, REFUSED_BECAUSE
from app.audiences.upsert import upsert_into_list
from app.campaigns.recipients import uploads
from app.campaigns.recipients.store import replace_recipients
from app.extensions import db
from app.models import Campaign, Email, SMTPSettings, SuppressionReason, Template, User
from app.sending.unsubscribe_links import UnsubscribeLinks
from app.states import CampaignStatus, EmailStatus
from app.suppression_list import suppress
from app.unsubscribe.resubscribe import ResubscribeLinks
from tests.builders import make_queued_campaign
from tests.conftest import PASSWORD

OWNER = "priya-menon"
NEWCOMER = "new-arrival"
#: Long names and subjects, as people write them, so the pages must wrap or scroll them.
BODY = (
    "<h2>Monsoon specials</h2><p>Dear {{ name }}, your personal code <strong>{{ code }}</strong> takes 20% "
    'off every order until Sunday.</p><p><a href="https://shop.example/monsoon">Open the shop</a></p>'
)
READERS = "\n".join(
    ["email,name,code,city"]
    + [
        f"reader.{i:03d}.with.a.long.address@subdomain.example.co.in,Reader Number {i},CODE-{i:05d},Thiruvananthapuram"
        for i in range(30)
    ]
).encode()
#: An upload with a bit of everything the review reports: invalid rows, a duplicate, a suppressed address.
UPLOAD = (
    READERS + b"\nnot-an-address,Broken Row,CODE-X,Kochi"
    b"\nreader.001.with.a.long.address@subdomain.example.co.in,Twice,CODE-Y,Kochi"
    b"\nleft.last.month@example.com,Left,CODE-Z,Kochi\n"
)
#: An upload whose address column has a header the import does not know: the user must choose it.
UNKNOWN_HEADERS = b"Kontakt,Vorname\nanna@example.de,Anna\nbernd@example.de,Bernd\n"
#: The contact whose page is checked: the completed campaign's first recipient, on the list.
CONTACT = "r00000@rcpt.example"
REPLY = "5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO)"


@dataclass(frozen=True)
class Site:
    owner: str
    newcomer: str
    campaigns: dict[str, int]
    template_id: int
    review_token: str
    column_choice_token: str
    unsubscribe_token: str
    resubscribe_token: str
    list_id: int
    contact_id: int
    list_review_token: str
    list_column_choice_token: str
    segment_id: int
    #: The list's public sign-up form, one sign-up's confirmation link, and a preference page naming the list.
    signup_token: str
    confirmation_token: str
    preferences_token: str


def build_site(app: Flask) -> Site:
    """Everything the pages show, written through the app's own code where it has some."""
    with app.app_context():
        owner = _user(OWNER)
        _user(NEWCOMER)
        account = _account(owner)
        campaigns = _campaigns(account)
        template = Template(
            user_id=owner.id,
            name="Monthly newsletter (two columns)",
            subject="News from Spice Co",
            html_body=BODY,
        )
        db.session.add(template)
        contact_list = _audience(owner)
        segment = Segment(
            user_id=owner.id,
            name="Regular readers in Thiruvananthapuram with a code",
            list_id=contact_list.id,
            conditions=[
                {"kind": "attribute", "key": "city", "op": "equals", "value": "Thiruvananthapuram"},
                {"kind": "tag", "key": "", "op": "equals", "value": "monsoon-regulars"},
                {"kind": "status", "key": "", "op": "equals", "value": "subscribed"},
                {"kind": "received", "value": str(campaigns["completed"])},
                {"kind": "not received", "value": "30"},
            ],
        )
        db.session.add(segment)
        suppress(
            owner.id,
            ["left.last.month@example.com", "no.more.mail@example.org"],
            SuppressionReason.UNSUBSCRIBED,
        )
        suppress(owner.id, ["mailbox.gone.forever@subdomain.example.co.in"], SuppressionReason.BOUNCED)
        suppress(owner.id, ["competitor@rival.example"], SuppressionReason.MANUAL)
        db.session.commit()
        review = uploads.keep(owner.id, UPLOAD, "readers.csv", uploads.FILE)
        choice = uploads.keep(owner.id, UNKNOWN_HEADERS, "kontakte.csv", uploads.FILE)
        list_review = uploads.keep(owner.id, UPLOAD, "readers.csv", uploads.FILE)
        list_choice = uploads.keep(owner.id, UNKNOWN_HEADERS, "kontakte.csv", uploads.FILE)
        review = uploads.keep(owner.id, UPLOAD, "readers.csv", uploads.FILE)
        choice = uploads.keep(owner.id, UNKNOWN_HEADERS, "kontakte.csv", uploads.FILE)
        token = UnsubscribeLinks.from_config(app.config).token(owner.id, "reader.007@example.com")
        again = ResubscribeLinks.from_config(app.config).token(owner.id, "left.last.month@example.com")
        signup_token, confirmation_token = _signups(contact_list, account)
        preferences = UnsubscribeLinks.from_config(app.config).token(
            owner.id, CONTACT, list_id=contact_list.id
        )
        contact_id = db.session.scalar(
            sa.select(Contact.id).where(Contact.user_id == owner.id, Contact.address == CONTACT)
        )
        site = Site(
            OWNER,
            NEWCOMER,
            campaigns,
            template.id,
            review.token,
            choice.token,
            token,
            again,
            contact_list.id,
            contact_id,
            list_review.token,
            list_choice.token,
            segment.id,
            signup_token,
            confirmation_token,
            preferences,
        )
        db.session.remove()
        return site


def _signups(contact_list: ContactList, account: SMTPSettings) -> tuple[str, str]:
    """The list's form, on, with sign-ups in every state the owner's page shows; its token and the
    confirmation link's token of one that was sent."""
    signup = ListSignup(
        list_id=contact_list.id, user_id=contact_list.user_id, enabled=True, smtp_account_id=account.id
    )
    db.session.add(signup)
    reasons = {
        SignupStatus.SENT: None,
        SignupStatus.CONFIRMED: None,
        SignupStatus.PENDING: "waiting for the account's interval",
        SignupStatus.FAILED: "The server refused it: 550 5.1.1 <nobody.home@rcpt.example>: user unknown",
        SignupStatus.REFUSED: REFUSED_BECAUSE[SuppressionReason.BOUNCED] + REFUSAL_ADVICE,
    }
    requests = [
        SignupRequest(
            user_id=contact_list.user_id,
            list_id=contact_list.id,
            address=f"{status}.sign-up.with.a.long.address@subdomain.example.co.in",
            status=status,
            last_error=reason,
        )
        for status, reason in reasons.items()
    ]
    db.session.add_all(requests)
    db.session.commit()
    confirmation = ConfirmationLinks.from_config(current_app.config).url(requests[0].id, requests[0].address)
    return signup.token, confirmation.rsplit("/", 1)[1]


def _audience(owner: User) -> ContactList:
    """A list of the readers, the completed campaign's first recipient and an address suppressed later;
    tags on a few of them."""
    contact_list = ContactList(user_id=owner.id, name="Monsoon newsletter readers in Kerala and Karnataka")
    db.session.add(contact_list)
    db.session.flush()
    limits = UploadLimits.from_config(current_app.config)
    extra = f"\n{CONTACT},Reader 0,CODE-00000,Kochi\nleft.last.month@example.com,Left,CODE-Z,Kochi\n"
    upsert_into_list(
        db.session(),
        contact_list,
        import_upload(READERS + extra.encode(), "readers.csv", limits=limits),
        ContactSource.IMPORT,
    )
    first_ten = db.session.scalars(sa.select(Contact.id).where(Contact.user_id == owner.id).limit(10))
    ids = list(first_ten)
    tag_contacts(owner.id, "monsoon-regulars", ids)
    tag_contacts(
        owner.id,
        "vip",
        [*ids[:3], db.session.scalar(sa.select(Contact.id).where(Contact.address == CONTACT))],
    )
    db.session.commit()
    return contact_list


def _user(username: str) -> User:
    user = User(username=username, email=f"{username}@spice.example")
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def _account(owner: User) -> SMTPSettings:
    now = clock.utcnow()
    account = SMTPSettings(
        user_id=owner.id,
        host="smtp.mail-provider.example",
        port=587,
        username="priya@spice.example",
        from_address="priya@spice.example",
        from_name="Priya from Spice Co",
        reply_to="hello@spice.example",
        send_interval=15,
        hourly_cap=100,
        paused_until=now + timedelta(minutes=25),
        pause_reason="421 4.7.0 Temporary System Problem. Try again later (rate limit exceeded for this sender).",
        last_error="454 4.7.0 Too many login attempts, please try again later",
        last_error_at=now - timedelta(hours=2),
        last_verified_at=now - timedelta(days=3),
    )
    db.session.add(account)
    db.session.commit()
    return account


def _campaigns(account: SMTPSettings) -> dict[str, int]:
    now = clock.utcnow()
    name = "Monsoon specials for our regular customers in Kerala and Karnataka"
    subject = "{{ name }}, the monsoon sale starts now: 20% off everything until Sunday night"
    made = {
        "completed": make_queued_campaign(
            account, 40, CampaignStatus.COMPLETED, now - timedelta(days=2), name=name
        ),
        "cancelled": make_queued_campaign(
            account, 12, CampaignStatus.CANCELLED, now - timedelta(days=1), name="Diwali preview"
        ),
        "paused": make_queued_campaign(
            account, 20, CampaignStatus.PAUSED, now - timedelta(hours=3), name="Paused reminder"
        ),
        "sending": make_queued_campaign(
            account, 48, CampaignStatus.SENDING, now - timedelta(hours=1), subject=subject
        ),
        "scheduled": make_queued_campaign(
            account, 25, CampaignStatus.SCHEDULED, now + timedelta(days=3), name="Next week"
        ),
    }
    _settle(made["completed"], sent=33, failed=5, suppressed=2)
    _settle(made["cancelled"], sent=4, cancelled=8)
    _settle(made["paused"], sent=9, failed=1)
    _settle(made["sending"], sent=20, failed=3)
    ids = {status: campaign.id for status, campaign in made.items()}
    ids["draft"] = _draft(account, name="Draft: Onam greetings with a long name that wraps on a phone").id
    ids["draft-with-a-problem"] = _draft(
        account, name="Uses a column nobody has", body=BODY + "<p>{{ company }} and {{ name | upper }</p>"
    ).id
    for week in range(1, 16):
        _draft(account, name=f"Weekly newsletter {week}", recipients=False)
    return ids


def _draft(account: SMTPSettings, name: str, recipients: bool = True, body: str = BODY) -> Campaign:
    campaign = Campaign(
        user_id=account.user_id,
        smtp_account_id=account.id,
        name=name,
        subject="Hello {{ name }}",
        html_body=body,
    )
    db.session.add(campaign)
    db.session.flush()
    if recipients:
        limits = UploadLimits.from_config(current_app.config)
        replace_recipients(db.session, campaign, import_upload(READERS, "readers.csv", limits=limits))
    db.session.commit()
    return campaign


def _settle(
    campaign: Campaign, sent: int = 0, failed: int = 0, suppressed: int = 0, cancelled: int = 0
) -> None:
    """Give the campaign's first emails these outcomes, in this order; the rest stay pending."""
    ids = db.session.scalars(
        sa.select(Email.id).where(Email.campaign_id == campaign.id).order_by(Email.id)
    ).all()
    now = clock.utcnow()
    start = 0
    for status, count in [
        (EmailStatus.SENT, sent),
        (EmailStatus.FAILED, failed),
        (EmailStatus.SUPPRESSED, suppressed),
        (EmailStatus.CANCELLED, cancelled),
    ]:
        for email in db.session.scalars(sa.select(Email).where(Email.id.in_(ids[start : start + count]))):
            email.status = status
            email.attempts = 1
            if status == EmailStatus.SENT:
                email.sent_at = now - timedelta(minutes=email.id % 600)
                email.last_smtp_code, email.last_smtp_message = 250, "2.0.0 Ok: queued as 4XyZ1k2LmN"
            elif status == EmailStatus.FAILED:
                email.last_smtp_code, email.last_smtp_message = 550, REPLY.format(address=email.address)
        start += count
    db.session.commit()
