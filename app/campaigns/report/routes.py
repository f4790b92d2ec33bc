"""A campaign's report: its totals, its emails a page at a time, their export, and what to do about
failed and pending ones; and the JSON its pages poll while it is sending."""

from __future__ import annotations

from typing import Any

import flask
from flask import (
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import clock
from app.bounds import whole_number
from app.campaigns import bp
from app.campaigns.mailbox_events import latest_replies
from app.campaigns.operations import cancel_pending, offered_actions, retry_all_failed, retry_failed
from app.campaigns.perform import perform
from app.campaigns.queries import (
    FailedCounts,
    Liveness,
    campaign_account,
    campaign_or_404,
    email_counts,
    emails_to_write,
    failed_counts,
)
from app.campaigns.report.export import csv_lines, export_name, xlsx_file
from app.campaigns.report.table import STATUSES, EmailFilter, email_page, export_rows, has_more_than
from app.database import read_in_one_snapshot
from app.extensions import db
from app.forms import EmptyForm
from app.models import Campaign
from app.states import CANCELLABLE, NOT_STARTED, RETRIABLE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT = "campaigns.report"


@bp.route("/<int:campaign_id>/report")
@login_required
def report(campaign_id: int) -> str:
    """Totals by status, the schedule, and the emails filtered by status and address, 50 a page."""
    campaign = campaign_or_404(campaign_id)
    counts = email_counts([campaign.id])[campaign.id]
    filters = EmailFilter.from_args(request.args)
    page = email_page(
        campaign,
        filters,
        after=request.args.get("after", type=whole_number),
        before=request.args.get("before", type=whole_number),
    )
    preparing = emails_to_write([campaign.id])[campaign.id]
    unsent = preparing or any(counts[status] for status in NOT_STARTED)
    return render_template(
        "campaigns/report/index.html",
        campaign=campaign,
        counts=counts,
        preparing=preparing,
        failed=failed_counts(campaign) if counts["failed"] else FailedCounts(0, 0),
        statuses=STATUSES,
        replies=latest_replies(campaign),
        filters=filters,
        page=page,
        liveness=Liveness.read(clock.utcnow(), campaign.id),
        action_form=EmptyForm(),
        retriable=campaign.status in RETRIABLE,
        cancellable=campaign.status in CANCELLABLE and unsent,
    )


@bp.route("/<int:campaign_id>/stats")
@login_required
def stats(campaign_id: int) -> dict[str, Any]:
    """The campaign's live figures: counts by status; its progress bar, status badge, buttons and its
    account's cooldown, rendered; and when to look again: all read as of one moment."""
    read_in_one_snapshot(db.session)
    campaign = campaign_or_404(campaign_id)
    now = clock.utcnow()
    counts = email_counts([campaign.id])[campaign.id]
    preparing = emails_to_write([campaign.id])[campaign.id]
    progress = get_template_attribute("campaigns/_macros.html", "progress")
    badge = get_template_attribute("campaigns/_macros.html", "status_badge")
    preparing_note = get_template_attribute("campaigns/_macros.html", "preparing_note")
    # A template module's attributes are its macros, which Jinja's types cannot list.
    live: Any = current_app.jinja_env.get_template("campaigns/_live.html").module
    form = EmptyForm()
    return {
        **Liveness.read(now, campaign.id).as_json(),
        "figures": {status: counts[status] for status in STATUSES},
        "campaigns": {str(campaign.id): str(progress(counts, preparing))},
        "badges": {str(campaign.id): str(badge(campaign.status))},
        "html": {
            "actions": str(live.actions(campaign, offered_actions(campaign), form)),
            "cooldown": str(live.cooldown(campaign, campaign_account(campaign), now, form)),
            "preparing": str(preparing_note(preparing)),
        },
    }


def file_name(campaign: Campaign, filters: EmailFilter, extension: str) -> str:
    return export_name(campaign.name, campaign.id, filters.status, filters.search, extension)


@bp.route("/<int:campaign_id>/report.csv")
@login_required
def export_csv(campaign_id: int) -> Response:
    """The filtered emails as CSV, streamed."""
    campaign = campaign_or_404(campaign_id)
    filters = EmailFilter.from_args(request.args)
    lines = csv_lines(export_rows(campaign, filters), current_user.timezone)
    return flask.Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={file_name(campaign, filters, 'csv')}"},
    )


@bp.route("/<int:campaign_id>/report.xlsx")
@login_required
def export_xlsx(campaign_id: int) -> Response:
    """The filtered emails as an Excel workbook."""
    campaign = campaign_or_404(campaign_id)
    filters = EmailFilter.from_args(request.args)
    limit = current_app.config["XLSX_EXPORT_MAX_ROWS"]
    if has_more_than(campaign, filters, limit):
        flash(
            f"An Excel export holds at most {limit:,} emails and this list has more. Download it as CSV "
            "(Excel opens that too), or narrow it down with the status or address filter.",
            "warning",
        )
        return redirect(url_for(REPORT, campaign_id=campaign.id, **filters.as_args()))
    workbook = xlsx_file(export_rows(campaign, filters), current_user.timezone)
    return send_file(
        workbook, mimetype=XLSX, as_attachment=True, download_name=file_name(campaign, filters, "xlsx")
    )


@bp.post("/<int:campaign_id>/retry-failed")
@login_required
def retry_failed_emails(campaign_id: int) -> Response:
    """Temporary failures back to pending, attempts reset; permanent ones stay failed."""
    return perform(
        campaign_id,
        retry_failed,
        "{count:,} temporary failures of “{name}” will be tried again.",
        REPORT,
    )


@bp.post("/<int:campaign_id>/retry-all-failed")
@login_required
def retry_all_failed_emails(campaign_id: int) -> Response:
    """Every failed email back to pending, the permanent failures too: a separate, deliberate choice."""
    return perform(
        campaign_id,
        retry_all_failed,
        "{count:,} failed emails of “{name}”, permanent failures included, will be tried again.",
        REPORT,
    )


@bp.post("/<int:campaign_id>/cancel-pending")
@login_required
def cancel_pending_emails(campaign_id: int) -> Response:
    """The emails not yet sent are cancelled."""
    return perform(campaign_id, cancel_pending, "{count:,} pending emails of “{name}” are cancelled.", REPORT)
