"""What a user can do to a campaign and to its emails: each function is one use-case, changes the session
and never commits.

The handler commits once. A refused action raises `ActionRefused` with a message for the user, before
anything was written. State changes are conditional UPDATEs (`... WHERE status IN (...)`), so an action
racing the engine (which moves `scheduled` to `sending` and `sending` to `completed`) either applies
to the state the user saw or is refused, never half-applied; an email the engine moved on meanwhile
is left alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from app import clock
from app.audiences.models import CampaignAudience
from app.campaigns.pending_emails import insert_pending_emails, pending_email
from app.campaigns.personalise import check_campaign
from app.campaigns.queries import campaign_account
from app.campaigns.recipients import audiences
from app.campaigns.recipients.audiences import has_audiences, refresh_complete_fields
from app.campaigns.recipients.snapshot import drop_contacts, take_contacts, taken_contacts
from app.database import changed_rows
from app.extensions import db
from app.models import Campaign, CampaignRecipient, Email, SMTPSettings, Suppression, Template
from app.sending.plain_text import html_to_text
from app.settings.account import in_cooldown, release_hold, resume_sending
from app.states import (
    CANCELLABLE,
    EDITABLE,
    NOT_STARTED,
    PAUSABLE,
    RELEASED,
    RESUMABLE,
    RETRIABLE,
    UNSCHEDULABLE,
    CampaignStatus,
    EmailStatus,
    completion,
)

#: The buttons of the campaign page, each offered in the statuses its action applies to.
ACTIONS = {
    "edit": EDITABLE,
    "unschedule": UNSCHEDULABLE,
    "pause": PAUSABLE,
    "resume": RESUMABLE,
    "cancel": CANCELLABLE,
}


class ActionRefused(Exception):
    """The action does not apply to the campaign as it is; the message says why, for the user."""


def offered_actions(campaign: Campaign) -> set[str]:
    """The names of `ACTIONS` that apply to the campaign in its present status."""
    return {name for name, statuses in ACTIONS.items() if campaign.status in statuses}


def _change_status(campaign: Campaign, allowed: tuple[str, ...], refusal: str, **values: object) -> None:
    changed = db.session.execute(
        sa.update(Campaign).where(Campaign.id == campaign.id, Campaign.status.in_(allowed)).values(**values)
    )
    if changed_rows(changed) != 1:
        db.session.refresh(campaign)
        raise ActionRefused(refusal.format(name=campaign.name, status=campaign.status))


def stop_unsent_emails(campaign: Campaign) -> int:
    """Pending and queued emails of the campaign become `cancelled`, in one UPDATE, and the contacts whose
    emails are not written yet are dropped; sent ones stay. Returns how many will not be sent."""
    result = db.session.execute(
        sa.update(Email)
        .where(Email.campaign_id == campaign.id, Email.status.in_(NOT_STARTED))
        .values(status=EmailStatus.CANCELLED, **RELEASED)
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result) + drop_contacts(campaign)


def create_campaign(user_id: int) -> Campaign:
    """An empty draft of the user's, added to the session for the caller to fill in."""
    campaign = Campaign(user_id=user_id, name="", status=CampaignStatus.DRAFT, merge_fields=[])
    db.session.add(campaign)
    return campaign


def save_content(
    campaign: Campaign,
    name: str,
    subject: str,
    html_body: str,
    text_body: str,
    text_edited: bool,
    preheader: str = "",
) -> bool:
    """Store what the user wrote; a scheduled campaign goes back to draft first (returns True then).

    The plain-text part is the user's own when `text_edited`, otherwise derived from the HTML.
    """
    unscheduled = campaign.status == CampaignStatus.SCHEDULED
    if unscheduled:
        unschedule_campaign(campaign)
    elif campaign.status not in EDITABLE:
        raise ActionRefused(f"“{campaign.name}” is {campaign.status}: it can no longer be edited.")
    campaign.name = name
    campaign.subject = subject
    campaign.preheader = preheader
    campaign.html_body = html_body
    campaign.text_edited = text_edited
    campaign.text_body = text_body if text_edited else html_to_text(html_body)
    return unscheduled


class Scheduled(NamedTuple):
    """What scheduling did: the emails the campaign will send, and the recipients left out as suppressed."""

    emails: int
    suppressed: int


def schedule_campaign(campaign: Campaign, account: SMTPSettings | None, send_at: datetime) -> Scheduled:
    """Create one pending Email per recipient not on the user's suppression list, due at `send_at`
    (naive UTC), in one INSERT ... SELECT; the campaign becomes `scheduled`.

    A campaign sent to lists and segments takes who their contacts are now, leaving out the suppressed,
    and its merge fields from them: their emails are written after the commit, a chunk at a time
    (`app.campaigns.recipients.snapshot`; the caller queues the writing, `enqueue_email_writing`). Those
    contacts are taken before the checks, which read the fields from them: a refusal leaves them for
    the handler's rollback.

    Addresses that already have an email in this campaign are skipped too, so scheduling again after
    a race with the engine can never send anyone a second copy.
    """
    if campaign.status != CampaignStatus.DRAFT:
        raise ActionRefused(f"“{campaign.name}” is {campaign.status}: only a draft can be scheduled.")
    if account is None:
        raise ActionRefused("Set up your SMTP account under Settings first: campaigns are sent through it.")
    to_audiences = has_audiences(campaign)
    if to_audiences:
        taken = take_contacts(campaign)
        refresh_complete_fields(campaign, taken_contacts(campaign), taken.mailed)
    problems = check_campaign(campaign)
    if problems:
        listed = "; ".join(str(problem) for problem in problems)
        raise ActionRefused(f"“{campaign.name}” cannot be scheduled until these are fixed: {listed}.")
    if to_audiences:
        scheduled = Scheduled(taken.mailed, taken.suppressed)
    else:
        recipients = sa.select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id)
        if db.session.scalar(sa.select(recipients.exists())) is False:
            raise ActionRefused(f"“{campaign.name}” has no recipients yet: add them before scheduling.")
        created = changed_rows(db.session.execute(_insert_emails(campaign, account, send_at)))
        scheduled = Scheduled(created, _suppressed_uploads(campaign) if created else 0)
    if scheduled.emails == 0 and to_audiences and scheduled.suppressed == 0:
        raise ActionRefused(f"The lists and segments of “{campaign.name}” have no contacts yet.")
    if scheduled.emails == 0:
        raise ActionRefused(f"Every recipient of “{campaign.name}” is on your suppression list.")
    campaign.status = CampaignStatus.SCHEDULED
    campaign.smtp_account_id = account.id
    campaign.scheduled_at = send_at
    return scheduled


def _suppressed_uploads(campaign: Campaign) -> int:
    """How many of the campaign's uploaded recipients are on the user's suppression list."""
    query = (
        sa.select(sa.func.count())
        .select_from(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id, _suppressed(campaign).exists())
    )
    return db.session.execute(query).scalar_one()


def _suppressed(campaign: Campaign) -> sa.Select:
    """The suppression of a recipient's address, correlated to `CampaignRecipient`."""
    return sa.select(Suppression.id).where(
        Suppression.user_id == campaign.user_id,
        Suppression.address == sa.func.lower(CampaignRecipient.address),
    )


def _insert_emails(campaign: Campaign, account: SMTPSettings, send_at: datetime) -> sa.Insert:
    recipient = CampaignRecipient
    suppressed = _suppressed(campaign)
    already = sa.select(Email.id).where(
        Email.campaign_id == campaign.id, sa.func.lower(Email.address) == sa.func.lower(recipient.address)
    )
    rows = (
        pending_email(
            campaign.user_id,
            campaign.id,
            account.id,
            send_at,
            (recipient.address, recipient.name, recipient.merge_data),
        )
        .where(recipient.campaign_id == campaign.id, ~suppressed.exists(), ~already.exists())
        .order_by(recipient.position)
    )
    return insert_pending_emails(rows)


def unschedule_campaign(campaign: Campaign) -> None:
    """Back to draft before the engine starts on it: its emails not yet started are deleted, and the
    contacts whose emails are not written yet are dropped (scheduling again takes them anew)."""
    _change_status(
        campaign,
        UNSCHEDULABLE,
        "“{name}” is {status}: only a campaign that has not started sending goes back to draft.",
        status=CampaignStatus.DRAFT,
        scheduled_at=None,
        smtp_account_id=None,
    )
    db.session.execute(
        sa.delete(Email)
        .where(Email.campaign_id == campaign.id, Email.status.in_(NOT_STARTED))
        .execution_options(synchronize_session=False)
    )
    drop_contacts(campaign)


def pause_campaign(campaign: Campaign) -> None:
    """The engine leaves a paused campaign's emails pending until it is resumed."""
    _change_status(
        campaign,
        PAUSABLE,
        "“{name}” is {status}: only a scheduled or sending campaign can be paused.",
        status=CampaignStatus.PAUSED,
    )


def resume_campaign(campaign: Campaign) -> None:
    """Back to `scheduled`; the engine moves it on to `sending` at its next tick."""
    _change_status(
        campaign,
        RESUMABLE,
        "“{name}” is {status}: only a paused campaign can be resumed.",
        status=CampaignStatus.SCHEDULED,
    )


def cancel_campaign(campaign: Campaign) -> int:
    """Stop for good: the campaign and its emails not yet started become `cancelled` (returns how many)."""
    _change_status(
        campaign,
        CANCELLABLE,
        "“{name}” is {status}: there is nothing left to cancel.",
        status=CampaignStatus.CANCELLED,
    )
    return stop_unsent_emails(campaign)


def lift_cooldown(campaign: Campaign) -> None:
    """End now the provider's cooldown of the account the campaign sends through."""
    account = campaign_account(campaign)
    if account is None or not in_cooldown(account):
        raise ActionRefused("Your SMTP account is not cooling down: its emails go out as planned.")
    resume_sending(account)


def release_held_account(campaign: Campaign) -> None:
    """The user has dealt with the problem that held the campaign's account: send again."""
    account = campaign_account(campaign)
    if account is None or not account.held:
        raise ActionRefused("Your SMTP account is not held: its emails go out as planned.")
    release_hold(account)


def delete_campaign(campaign: Campaign) -> None:
    """Hide the campaign everywhere; its unsent emails are cancelled, its sent history stays."""
    if campaign.status in CANCELLABLE:
        cancel_campaign(campaign)
    campaign.deleted_at = clock.utcnow()


def duplicate_campaign(campaign: Campaign) -> Campaign:
    """A new draft with the same content, merge fields and recipients (or lists and segments), named
    “Copy of …”."""
    copy = Campaign(
        user_id=campaign.user_id,
        name=f"Copy of {campaign.name}"[: Campaign.name.type.length],
        subject=campaign.subject,
        preheader=campaign.preheader,
        html_body=campaign.html_body,
        text_body=campaign.text_body,
        text_edited=campaign.text_edited,
        merge_fields=list(campaign.merge_fields or []),
        longest_values=campaign.longest_values,
    )
    db.session.add(copy)
    db.session.flush()
    recipient = CampaignRecipient
    db.session.execute(
        sa.insert(recipient).from_select(
            ["user_id", "campaign_id", "position", "address", "name", "merge_data"],
            sa.select(
                recipient.user_id,
                sa.literal(copy.id),
                recipient.position,
                recipient.address,
                recipient.name,
                recipient.merge_data,
            ).where(recipient.campaign_id == campaign.id),
        )
    )
    db.session.add_all(
        CampaignAudience(
            user_id=copy.user_id,
            campaign_id=copy.id,
            list_id=audience.list_id,
            segment_id=audience.segment_id,
        )
        for audience in audiences.audiences_of(campaign)
    )
    return copy


def save_as_template(campaign: Campaign, name: str) -> Template:
    """Keep the campaign's subject and bodies as a template; a derived plain text is not kept (it is
    derived again from the HTML when the template is used)."""
    template = Template(
        user_id=campaign.user_id,
        name=name,
        subject=campaign.subject,
        html_body=campaign.html_body,
        text_body=campaign.text_body if campaign.text_edited else "",
    )
    db.session.add(template)
    return template


def start_from_template(campaign: Campaign, template: Template) -> None:
    """Fill a new draft with a template's subject and bodies."""
    campaign.subject = template.subject
    campaign.html_body = template.html_body
    campaign.text_edited = bool(template.text_body)
    campaign.text_body = template.text_body or html_to_text(template.html_body)


# ----- the report's actions on a campaign's emails ------------------------------------------------


def retry_failed(campaign: Campaign, include_permanent: bool = False) -> int:
    """The campaign's temporary failures (or, with `include_permanent`, all its failed emails) go back
    to `pending`, due now, attempts reset (returns how many).

    A permanent failure is an address the receiving server refused, or a message that could not be
    built: sending it again only helps when something changed, and mailing refused addresses hurts the
    sender's reputation, so it is retried only when the user asks for it apart.

    A completed campaign is sending again, so the dispatcher takes them; the engine still re-checks
    each address against the suppression list before sending.
    """
    if campaign.status not in RETRIABLE:
        raise ActionRefused(f"“{campaign.name}” is {campaign.status}: its failed emails cannot be retried.")
    which = [] if include_permanent else [Email.permanent_failure.is_(False)]
    retried = changed_rows(
        db.session.execute(
            sa.update(Email)
            .where(
                Email.user_id == campaign.user_id,
                Email.campaign_id == campaign.id,
                Email.status == EmailStatus.FAILED,
                *which,
            )
            .values(
                status=EmailStatus.PENDING,
                attempts=0,
                next_attempt_at=None,
                rate_limit_retry_at=None,
                scheduled_at=clock.utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    )
    if retried == 0:
        kind = "failed emails" if include_permanent else "temporary failures"
        raise ActionRefused(f"“{campaign.name}” has no {kind} to retry.")
    db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status == CampaignStatus.COMPLETED)
        .values(status=CampaignStatus.SENDING, completed_at=None)
        .execution_options(synchronize_session=False)
    )
    return retried


def retry_all_failed(campaign: Campaign) -> int:
    """`retry_failed`, permanent failures included."""
    return retry_failed(campaign, include_permanent=True)


def cancel_pending(campaign: Campaign) -> int:
    """The campaign's emails not yet started become `cancelled` (returns how many); what was sent stays.

    With nothing left in flight the campaign is completed at once, whatever its status: the engine
    only completes campaigns it is sending, and a scheduled or paused one would otherwise wait forever.
    """
    if campaign.status not in CANCELLABLE:
        raise ActionRefused(f"“{campaign.name}” is {campaign.status}: it has no pending emails.")
    cancelled = stop_unsent_emails(campaign)
    if cancelled == 0:
        raise ActionRefused(f"“{campaign.name}” has no pending emails to cancel.")
    db.session.execute(completion(CANCELLABLE).where(Campaign.id == campaign.id))
    return cancelled
