"""The one way a campaign's button runs: load the campaign, run its operation, commit, flash, redirect.

Used by the campaign page's buttons and the report's alike.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, url_for
from werkzeug.wrappers import Response

from app.campaigns.operations import ActionRefused
from app.campaigns.queries import campaign_or_404
from app.extensions import db
from app.models import Campaign


def perform(
    campaign_id: int, operation: Callable[[Campaign], object], done: str, back_to: str = "campaigns.show"
) -> Response:
    """Run a button's operation on the campaign (CSRFProtect has checked the token), commit, and go
    back to `back_to` with `done`, which may name {name} and {count} (what the operation returned)."""
    campaign = campaign_or_404(campaign_id)
    try:
        result = operation(campaign)
    except ActionRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "warning")
    else:
        db.session.commit()
        flash(done.format(name=campaign.name, count=result), "success")
    return redirect(url_for(back_to, campaign_id=campaign_id))
