"""The dashboard page and the small JSON document its script polls while emails are going out."""

from __future__ import annotations

from typing import Any

from flask import current_app, get_template_attribute, render_template, request
from flask_login import current_user, login_required

from app import clock
from app.bounds import record_ids
from app.campaigns.queries import Liveness
from app.dashboard import bp
from app.dashboard.periods import day_buckets, days_this_week, hour_buckets
from app.dashboard.stats import (
    SentHistory,
    active_campaigns,
    by_campaign,
    campaign_counts,
    email_figures,
    next_scheduled,
    recent_failures,
    user_accounts,
)
from app.database import read_in_one_snapshot
from app.extensions import db

HOURS_CHARTED = 48
DAYS_CHARTED = 30
#: At most this many campaign ids a page may ask to follow (`?shown=`).
SHOWN_MAX = 50


def live_context(shown: list[int]) -> dict[str, Any]:
    """What the page shows and the JSON refreshes: the headline figures, the active campaigns (and
    those of `shown`), and the two charts; the campaigns' counters are read once for the figures and
    the campaigns, the sends once for the figures and both charts; all read as of one moment."""
    read_in_one_snapshot(db.session)
    now, zone = clock.utcnow(), current_user.timezone
    accounts = user_accounts()
    this_week = day_buckets(now, zone, days_this_week(now, zone))
    hours, days = hour_buckets(now, zone, HOURS_CHARTED), day_buckets(now, zone, DAYS_CHARTED)
    history = SentHistory.read(this_week, hours, days)
    counts = campaign_counts()
    interval = current_app.config["SEND_INTERVAL"]
    return {
        "now": now,
        "accounts": accounts,
        "figures": email_figures(now, accounts, counts, history, this_week),
        "campaigns": active_campaigns(now, accounts, interval, by_campaign(counts), shown),
        "charts": {"hours": history.chart(hours), "days": history.chart(days)},
        "next_campaign": next_scheduled(now),
        "failures": recent_failures(),
        "liveness": Liveness.read(now),
    }


@bp.route("/")
@login_required
def index() -> str:
    """The user's sending at a glance: figures, account state, active campaigns, failures, charts."""
    return render_template("dashboard/index.html", **live_context([]))


@bp.route("/dashboard/stats")
@login_required
def stats() -> dict[str, Any]:
    """The live figures: counts as numbers, the charts' series, each active (or `shown`) campaign's
    progress and status badge, and the page's other live parts (cooldowns, the account's state, the
    next scheduled send, the latest failures) as rendered HTML."""
    shown = request.args.get("shown", "").split(",")
    context = live_context(record_ids(shown[:SHOWN_MAX]))
    # A template module's attributes are its macros, which Jinja's types cannot list.
    parts: Any = current_app.jinja_env.get_template("dashboard/_macros.html").module
    badge = get_template_attribute("campaigns/_macros.html", "status_badge")
    now, accounts, listed = context["now"], context["accounts"], context["campaigns"]
    return {
        **context["liveness"].as_json(),
        "figures": vars(context["figures"]),
        "charts": context["charts"],
        "campaigns": {str(item.campaign.id): str(parts.campaign_progress(item)) for item in listed},
        "badges": {str(item.campaign.id): str(badge(item.campaign.status)) for item in listed},
        "html": {
            "resumes": str(parts.resumes(accounts, now)),
            "accounts": str(parts.account_states(accounts, now)),
            "next": str(parts.next_send(context["next_campaign"])),
            "failures": str(parts.failure_table(context["failures"])),
        },
    }
