"""Whom the preview shows the email as: one of the uploaded recipients, or of the contacts a campaign sent
to lists and segments would mail today."""

from __future__ import annotations

from app.campaigns.queries import first_recipients, recipient_of
from app.campaigns.recipients.audiences import Addressee, first_addressees, has_audiences
from app.models import Campaign, CampaignRecipient

Choice = CampaignRecipient | Addressee


def preview_choices(campaign: Campaign, limit: int) -> list[Choice]:
    if has_audiences(campaign):
        return list(first_addressees(campaign, limit))
    return list(first_recipients(campaign, limit))


def chosen_recipient(campaign: Campaign, chosen_id: int | None) -> Choice | None:
    """The recipient (or contact) with `chosen_id`, or the first one; None when there is none."""
    if not has_audiences(campaign):
        return recipient_of(campaign, chosen_id)
    found = first_addressees(campaign, 1, chosen_id) if chosen_id is not None else []
    found = found or first_addressees(campaign, 1)
    return found[0] if found else None
