from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.campaigns import bp
from app.campaigns.forms import CampaignForm
from app.extensions import db
from app.models import Campaign
from app.ownership import owned

CAMPAIGNS_PER_PAGE = 20


@bp.route("/")
@login_required
def index() -> str:
    """The user's campaigns, newest first."""
    page = db.paginate(
        owned(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=CAMPAIGNS_PER_PAGE,
        error_out=False,
    )
    return render_template("campaigns/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def compose() -> str | Response:
    """Write a new campaign and keep it as a draft."""
    form = CampaignForm()
    if form.validate_on_submit():
        campaign = Campaign(user_id=current_user.id)
        form.populate_obj(campaign)
        db.session.add(campaign)
        db.session.commit()
        flash(f"Draft “{campaign.name}” saved.", "success")
        return redirect(url_for("campaigns.index"))
    return render_template("campaigns/compose.html", form=form)
