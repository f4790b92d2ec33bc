"""The Recipients page's "Send to lists and segments": the campaign goes to their contacts as they are
when it is scheduled (`audiences`)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.audiences.models import ContactList, Segment
from app.campaigns import bp
from app.campaigns.personalise import check_campaign
from app.campaigns.recipients.audiences import audience_choices, audience_count, choose_audiences
from app.campaigns.recipients.forms import AudienceForm
from app.campaigns.recipients.routes import draft_or_refuse, recipients_page_response
from app.campaigns.recipients.store import recipient_count
from app.extensions import db
from app.ownership import owned_or_404


@bp.post("/<int:campaign_id>/recipients/audiences")
@login_required
def choose_recipient_audiences(campaign_id: int) -> Response | tuple[str, int]:
    """Send the campaign to the chosen lists and segments; uploaded recipients are replaced only once the
    user confirmed it."""
    campaign = draft_or_refuse(campaign_id, lock=True)
    choices = audience_choices(current_user.id)
    form = AudienceForm().offer(choices.lists, choices.segments)
    if not form.validate_on_submit():
        return recipients_page_response(campaign, audience_form=form), 400
    uploaded = recipient_count(campaign)
    if uploaded and not form.replace_upload.data:
        form.replace_upload.errors = [
            f"This campaign has {uploaded:,} uploaded recipient{'' if uploaded == 1 else 's'}: tick this box "
            "to replace them with the lists and segments, or leave them as they are."
        ]
        return recipients_page_response(campaign, audience_form=form), 400
    lists = [owned_or_404(ContactList, list_id) for list_id in form.lists.data]
    segments = [owned_or_404(Segment, segment_id) for segment_id in form.segments.data]
    choose_audiences(db.session(), campaign, lists, segments)
    count = audience_count(campaign)
    problems = [problem for problem in check_campaign(campaign) if not problem.blocking]
    db.session.commit()
    names = ", ".join([item.name for item in lists] + [item.name for item in segments])
    flash(
        f"“{campaign.name}” goes to {names}: "
        f"{count.mailed:,} contact{'' if count.mailed == 1 else 's'} today"
        + (f", {count.suppressed:,} left out as suppressed" if count.suppressed else "")
        + ". Who is on them is read again when you schedule it.",
        "success",
    )
    for problem in problems:
        flash(
            f"The campaign's content needs a field not every contact has: {problem}. Give it a fallback "
            "(“{{ company | default('there') }}”) or correct it before scheduling.",
            "warning",
        )
    return redirect(url_for("campaigns.recipients", campaign_id=campaign.id))
