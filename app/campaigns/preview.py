"""The email as one recipient will get it: rendered for the campaign page, or sent to the user's own
address through their SMTP account ("Send test").

Both go through the engine's `CampaignTemplate`, so the preview is what the engine would send,
default unsubscribe footer included.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from flask import current_app

from app.campaigns.personalise import error_message, sample_context
from app.campaigns.recipients.audiences import Addressee
from app.campaigns.unknown_fields import preview_environments
from app.extensions import db
from app.models import Campaign, CampaignRecipient, SMTPSettings, User
from app.recipient import Recipient
from app.sending.connection import SMTPFailure, run_sync, send_one
from app.sending.message import ENGINE, CampaignTemplate, Environments, Sender
from app.sending.unsubscribe_links import UnsubscribeLinks
from app.settings.account import account_endpoint
from app.settings.checks import CheckResult, failure_message

TEST_SUBJECT_PREFIX = "[Test] "


@dataclass(frozen=True)
class Preview:
    recipient: Recipient
    subject: str = ""
    html: str = ""
    text: str = ""
    #: Set when the message could not be rendered for this recipient.
    error: str = ""
    #: Merge fields the recipient does not have, shown highlighted in the preview.
    unknown_fields: tuple[str, ...] = ()


def preview_recipient(
    campaign: Campaign, chosen: CampaignRecipient | Addressee | None, user: User
) -> Recipient:
    """The chosen recipient; with none uploaded yet, the user with each column's name as its value."""
    if chosen is None:
        fields = [field["key"] for field in campaign.merge_fields or []]
        return Recipient(user.email, user.username, sample_context(fields))
    return Recipient(chosen.address, chosen.name, dict(chosen.merge_data or {}))


def unsubscribe_url(campaign: Campaign, address: str) -> str:
    """The signed link the engine gives `address` in this campaign's emails."""
    return UnsubscribeLinks.from_config(current_app.config).url(campaign.user_id, address)


def campaign_template(campaign: Campaign, environments: Environments = ENGINE) -> CampaignTemplate:
    return CampaignTemplate(
        campaign.subject, campaign.html_body, campaign.text_body, campaign.preheader, environments
    )


def render_preview(campaign: Campaign, recipient: Recipient) -> Preview:
    """Subject, HTML and plain text for `recipient` (unknown merge fields shown, not blank), or the
    error that stops them rendering."""
    unknown = preview_environments()
    try:
        template = campaign_template(campaign, unknown.environments)
        rendered = template.render(recipient, unsubscribe_url(campaign, recipient.address))
    except Exception as error:  # a user's template can raise anything; the page shows it
        return Preview(recipient, error=error_message(error))
    return Preview(recipient, rendered.subject, rendered.html, rendered.text, "", tuple(unknown.names))


def build_test_email(campaign: Campaign, recipient: Recipient, account: SMTPSettings, to: str) -> bytes:
    """The message `recipient` would get, addressed to `to` and marked as a test in its subject.

    Its unsubscribe link is a test link (`UnsubscribeLinks.test_url`): a click on it shows what it is
    and unsubscribes nobody, neither the recipient nor `to`.
    """
    sender = Sender(account.from_address, account.from_name, account.reply_to)
    link = UnsubscribeLinks.from_config(current_app.config).test_url(campaign.user_id, to)
    template = campaign_template(campaign)
    rendered = template.render(recipient, link)
    test = replace(rendered, subject=TEST_SUBJECT_PREFIX + rendered.subject)
    return template.assemble(sender, test, "", to, link)


def send_test(
    campaign: Campaign, recipient: Recipient, account: SMTPSettings, addresses: list[str]
) -> CheckResult:
    """Send the test to each address now, one message each. Raises `PasswordUnreadable` when the saved
    password can't be decrypted."""
    endpoint = account_endpoint(account)
    try:
        messages = [(to, build_test_email(campaign, recipient, account, to)) for to in addresses]
    except Exception as error:  # as in render_preview
        return CheckResult(False, f"The test email could not be built: {error_message(error)}")
    db.session.commit()  # end the read transaction before the network wait
    sent: list[str] = []
    for to, message in messages:
        try:
            run_sync(functools.partial(send_one, endpoint, message, account.from_address, to))
        except SMTPFailure as failure:
            before = f" (it went to {', '.join(sent)} before that)" if sent else ""
            return CheckResult(False, f"Not sent to {to}: {failure_message(failure, endpoint)}{before}")
        sent.append(to)
    return CheckResult(
        True,
        f"Test email sent to {', '.join(sent)}, as {recipient.address} will get it, through {endpoint.host}.",
    )
