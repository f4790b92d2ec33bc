"""The dashboard page and the small JSON document its script polls while emails are going out."""

from __future__ import annotations

from typing import Any

from flask import current_app, get_template_attribute, render_template
from flask_login import current_user, login_required

from app import clock
from app.campaigns.queries import in_flight
from app.dashboard import bp
from app.dashboard.periods import day_buckets, hour_buckets
from app.dashboard.stats import (
    active_campaigns,
    email_figures,
    next_scheduled,
    recent_failures,
    sent_chart,
    user_accounts,
)

HOURS_CHARTED = 48
DAYS_CHARTED = 30


def live_context() -> dict[str, Any]:
    """What the page shows and the JSON refreshes: the headline figures and the active campaigns."""
    now = clock.utcnow()
    accounts = user_accounts()
    return {
        "now": now,
        "accounts": accounts,
        "figures": email_figures(now, current_user.timezone, accounts),
        "campaigns": active_campaigns(now, accounts, current_app.config["SEND_INTERVAL"]),
        "in_flight": in_flight(now),
    }


@bp.route("/")
@login_required
def index() -> str:
    """The user's sending at a glance: figures, account state, active campaigns, failures, charts."""
    context = live_context()
    now, zone = context["now"], current_user.timezone
    return render_template(
        "dashboard/index.html",
        next_campaign=next_scheduled(now),
        failures=recent_failures(),
        charts={
            "hours": sent_chart(hour_buckets(now, zone, HOURS_CHARTED)),
            "days": sent_chart(day_buckets(now, zone, DAYS_CHARTED)),
        },
        **context,
    )


@bp.route("/dashboard/stats")
@login_required
def stats() -> dict[str, Any]:
    """The live figures: counts as numbers, each active campaign's progress as rendered HTML."""
    context = live_context()
    progress = get_template_attribute("dashboard/_macros.html", "campaign_progress")
    return {
        "in_flight": context["in_flight"],
        "figures": vars(context["figures"]),
        "campaigns": {str(item.campaign.id): str(progress(item)) for item in context["campaigns"]},
    }
