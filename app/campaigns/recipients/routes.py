"""A campaign's Recipients page: upload or paste a list, review what the import found, save it.

Upload and paste store what was sent (see `uploads`) and redirect to the review, which
imports it and shows the summary; "Save" imports the same stored bytes again and replaces the
campaign's recipients in one transaction. Nothing is saved before that button, and nothing at all
when the import is refused. Or "Send to these" sends the campaign to lists and segments instead
(`audiences`), whose contacts are read when it is scheduled.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flask
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.address_import import ColumnMap, ImportResult, RecipientFileError, UploadLimits, invalid_rows_csv
from app.address_import.columns import locate_columns
from app.address_import.importer import import_table
from app.audiences.models import ContactList, ContactSource, Segment
from app.audiences.operations import NameTaken, create_list
from app.audiences.queries import lists_by_name
from app.audiences.upsert import summary_message, upsert_into_list
from app.bounds import page_number
from app.campaigns import bp
from app.campaigns.personalise import check_campaign
from app.campaigns.queries import campaign_or_404
from app.campaigns.recipients import uploads
from app.campaigns.recipients.audiences import (
    audience_choices,
    audience_count,
    choose_audiences,
    chosen,
    clear_audiences,
    has_audiences,
)
from app.campaigns.recipients.forms import (
    NEW_LIST,
    NO_LIST,
    AudienceForm,
    ColumnsForm,
    PasteForm,
    SaveForm,
    SaveRecipientsForm,
    UploadForm,
)
from app.campaigns.recipients.store import recipient_count, recipients_page, replace_recipients
from app.campaigns.recipients.uploads import PendingImport
from app.extensions import db
from app.forms import search_text
from app.models import Campaign
from app.ownership import owned_or_404
from app.states import CampaignStatus
from app.suppressions.operations import suppressed_addresses
from app.wording import counted

#: How many rows of each kind the summary shows; the invalid ones can all be downloaded.
SAMPLE_ROWS = 10
REPORT_ROWS = 100


class ColumnChoiceNeeded(RecipientFileError):
    """The upload was read, but its address column must be chosen from `headers`."""

    def __init__(self, message: str, headers: list[str]) -> None:
        super().__init__(message)
        self.headers = headers


class Review(NamedTuple):
    headers: list[str]
    result: ImportResult


@bp.route("/<int:campaign_id>/recipients")
@login_required
def recipients(campaign_id: int) -> str:
    """The campaign's recipients, searchable by address, and the forms that replace them."""
    return recipients_page_response(campaign_or_404(campaign_id))


@bp.route("/<int:campaign_id>/recipients/upload", methods=["POST"])
@login_required
def upload_recipients(campaign_id: int) -> Response | tuple[str, int]:
    """Keep the uploaded file and show what importing it would give."""
    campaign = draft_or_refuse(campaign_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return recipients_page_response(campaign, upload_form=form), 400
    upload = form.file.data
    pending = uploads.keep(current_user.id, upload.read(), upload.filename or "upload", uploads.FILE)
    return redirect(review_url(campaign, pending))


@bp.route("/<int:campaign_id>/recipients/paste", methods=["POST"])
@login_required
def paste_recipients(campaign_id: int) -> Response | tuple[str, int]:
    """Keep the pasted addresses and show what importing them would give."""
    campaign = draft_or_refuse(campaign_id)
    form = PasteForm()
    if not form.validate_on_submit():
        return recipients_page_response(campaign, paste_form=form), 400
    data = form.addresses.data.encode("utf-8")
    pending = uploads.keep(current_user.id, data, "pasted addresses", uploads.PASTE)
    return redirect(review_url(campaign, pending))


@bp.route("/<int:campaign_id>/recipients/review/<token>")
@login_required
def review_recipients(campaign_id: int, token: str) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The summary: accepted, invalid, duplicate and suppressed rows, and the button that saves.

    Never kept by the browser, so its back button after a save asks again and hears it was saved.
    """
    pending = unsaved_upload_or_explain(token)
    campaign = draft_or_refuse(campaign_id)
    columns = chosen_columns(request.args)
    try:
        review = run_import(pending, columns)
    except ColumnChoiceNeeded as problem:
        chooser = ColumnsForm(formdata=None).offer(problem.headers)
        return recipients_page_response(
            campaign, error=problem.message, chooser=chooser, pending=pending
        ), 422
    except RecipientFileError as problem:
        pending.discard()
        return recipients_page_response(campaign, error=problem.message), 422
    values = {**review_values(pending, review, columns), "save_form": save_form(posted=False)}
    return (
        render_template("campaigns/recipients/review.html", campaign=campaign, **values),
        200,
        {"Cache-Control": "no-store"},
    )


@bp.route("/<int:campaign_id>/recipients/review/<token>/invalid.csv")
@login_required
def invalid_recipients_csv(campaign_id: int, token: str) -> Response:
    """The refused rows as CSV, every cell safe to open in a spreadsheet."""
    pending = unsaved_upload_or_explain(token)
    campaign = draft_or_refuse(campaign_id)
    review = import_or_refuse(campaign, pending, chosen_columns(request.args))
    return flask.Response(
        invalid_rows_csv(review.result).encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=invalid-recipients.csv"},
    )


@bp.route("/<int:campaign_id>/recipients/save/<token>", methods=["POST"])
@login_required
def save_recipients(campaign_id: int, token: str) -> Response:
    """Replace the campaign's recipients and merge fields with the import's (its lists and segments
    too, if it had some), and keep them in a list if asked, all at once."""
    pending = unsaved_upload_or_explain(token)
    campaign = draft_or_refuse(campaign_id)
    columns = chosen_columns(request.args)
    form = save_form()
    if not form.validate_on_submit():
        for error in form.errors.values():
            flash(f"Nothing was saved: {' '.join(error)}", "danger")
        return redirect(review_url(campaign, pending, columns))
    review = import_or_refuse(campaign, pending, columns)
    if not review.result.recipients:
        flash("There is not one valid recipient in this list, so nothing was saved.", "danger")
        return redirect(review_url(campaign, pending, columns))
    campaign = draft_or_refuse(campaign_id, lock=True)
    had_audiences = has_audiences(campaign)
    clear_audiences(db.session(), campaign)
    saved = replace_recipients(db.session(), campaign, review.result)
    try:
        kept = keep_in_list(form, review.result)
    except NameTaken as taken:
        db.session.rollback()
        flash(f"Nothing was saved: {taken.message}", "danger")
        return redirect(review_url(campaign, pending, columns))
    db.session.commit()
    pending.mark_saved(campaign.id)
    flash(f"Saved {counted(saved, 'recipient')} for “{campaign.name}”.", "success")
    if had_audiences:
        flash("They replace the lists and segments the campaign was going to.", "info")
    if kept is not None:
        flash(kept, "success")
    if review.result.international:
        flash(international_notice(review.result.international), "info")
    for problem in check_campaign(campaign):
        if problem.blocking:
            flash(
                f"The campaign's content fails with these recipients' data: {problem}. Correct it before "
                "scheduling: until then the campaign cannot be scheduled.",
                "warning",
            )
    return redirect(url_for("campaigns.recipients", campaign_id=campaign.id))


def save_form(posted: bool = True) -> SaveRecipientsForm:
    """The review's Save form (as posted, or empty), offering the user's lists to keep the recipients in."""
    form = SaveRecipientsForm() if posted else SaveRecipientsForm(formdata=None)
    return form.offer([(item.id, item.name) for item in lists_by_name(current_user.id)])


def keep_in_list(form: SaveRecipientsForm, result: ImportResult) -> str | None:
    """Add or update the import's recipients as contacts of the list the form names (a new one, or one of
    the user's), as a list's own import does; returns what to tell the user, None when no list was asked."""
    if form.keep_in.data == NO_LIST:
        return None
    if form.keep_in.data == NEW_LIST:
        contact_list = create_list(current_user.id, form.new_list.data)
    else:
        contact_list = owned_or_404(ContactList, form.keep_in.data)
    return summary_message(
        contact_list, upsert_into_list(db.session(), contact_list, result, ContactSource.IMPORT)
    )


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
            f"This campaign has {counted(uploaded, 'uploaded recipient')}: tick this box "
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
        f"{counted(count.mailed, 'contact')} today"
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


def international_notice(count: int) -> str:
    """What the review and the save say about addresses only an SMTPUTF8 server takes ("" for none)."""
    if not count:
        return ""
    one = count == 1
    return (
        f"{count:,} address{'' if one else 'es'} need{'s' if one else ''} an SMTP server with SMTPUTF8 "
        f"(international addresses): {'it has' if one else 'they have'} non-ASCII characters before the @. "
        f"{'It is' if one else 'They are'} accepted; if your server does not support SMTPUTF8, "
        f"{'that email fails' if one else 'those emails fail'} and the others are still sent."
    )


def unsaved_upload_or_explain(token: str) -> PendingImport:
    """The user's stored upload, not yet saved. One already saved (the back button to its summary, or
    its "Save" sent again) leads to the recipients it became, with a word on what happened."""
    pending = uploads.find_or_404(current_user.id, token)
    if pending.saved_to is not None:
        flash("These recipients were already saved — see the campaign's list below.", "info")
        abort(redirect(url_for("campaigns.recipients", campaign_id=pending.saved_to)))
    return pending


def draft_or_refuse(campaign_id: int, lock: bool = False) -> Campaign:
    """The campaign if its recipients may still change; otherwise back to its page with the reason.

    Locking the row at save time keeps scheduling from starting between the check and the commit.
    """
    campaign = campaign_or_404(campaign_id, lock)
    if campaign.status != CampaignStatus.DRAFT:
        flash(
            f"“{campaign.name}” is {campaign.status}: its recipients can only be changed while it is a "
            "draft.",
            "warning",
        )
        abort(redirect(url_for("campaigns.recipients", campaign_id=campaign.id)))
    return campaign


def chosen_columns(args: MultiDict[str, str]) -> ColumnMap | None:
    """The columns the user picked (`email`, optional `name`), or None to find them by their headers."""
    email = args.get("email")
    return None if email is None else ColumnMap(email, args.get("name") or None)


def column_args(columns: ColumnMap | None) -> dict[str, Any]:
    """The query arguments that carry a column choice from page to page (see `chosen_columns`)."""
    return {} if columns is None else columns._asdict()


def review_url(campaign: Campaign, pending: PendingImport, columns: ColumnMap | None = None) -> str:
    return url_for(
        "campaigns.review_recipients", campaign_id=campaign.id, token=pending.token, **column_args(columns)
    )


def review_values(pending: PendingImport, review: Review, columns: ColumnMap | None) -> dict[str, Any]:
    """What a review page shows of an import, whichever list it goes to: the summary, the column chooser
    set to the columns used, and the button that saves."""
    return {
        "pending": pending,
        "result": review.result,
        "column_args": column_args(columns),
        "chooser": ColumnsForm(formdata=None, data=review.result.columns._asdict()).offer(review.headers),
        "save_form": SaveForm(),
        "sample_rows": SAMPLE_ROWS,
        "report_rows": REPORT_ROWS,
        "international_notice": international_notice(review.result.international),
    }


def run_import(pending: PendingImport, columns: ColumnMap | None) -> Review:
    """Import the stored upload; raises `ColumnChoiceNeeded` when the user must pick the email column.

    The import takes seconds for a big list, so the transaction that read the suppressions is ended
    first: an open one would hold SQLite's write lock, or a PostgreSQL snapshot, the whole time.
    """
    suppressed = suppressed_addresses(current_user.id)
    db.session.rollback()
    limits = UploadLimits.from_config(current_app.config)
    table = pending.table(limits)
    try:
        locate_columns(table.headers, columns)
    except RecipientFileError as problem:
        raise ColumnChoiceNeeded(problem.message, table.headers) from None
    result = import_table(table, max_recipients=limits.max_rows, suppressed=suppressed, columns=columns)
    return Review(table.headers, result)


def import_or_refuse(campaign: Campaign, pending: PendingImport, columns: ColumnMap | None) -> Review:
    """`run_import`, or back to the Recipients page with the reason (the review showed it already)."""
    try:
        return run_import(pending, columns)
    except RecipientFileError as problem:
        flash(problem.message, "danger")
        abort(redirect(url_for("campaigns.recipients", campaign_id=campaign.id)))


def recipients_page_response(
    campaign: Campaign,
    upload_form: UploadForm | None = None,
    paste_form: PasteForm | None = None,
    error: str | None = None,
    chooser: ColumnsForm | None = None,
    pending: PendingImport | None = None,
    audience_form: AudienceForm | None = None,
) -> str:
    search = search_text(request.args) if request.endpoint == "campaigns.recipients" else ""
    audiences = chosen(campaign)
    editable = campaign.status == CampaignStatus.DRAFT
    if audience_form is None and editable:
        choices = audience_choices(current_user.id)
        audience_form = AudienceForm(formdata=None).offer(choices.lists, choices.segments)
        audience_form.tick(audiences)
    return render_template(
        "campaigns/recipients/index.html",
        campaign=campaign,
        audiences=audiences,
        audience=audience_count(campaign) if audiences and editable else None,
        audience_form=audience_form,
        count=recipient_count(campaign),
        page=recipients_page(campaign, request.args.get("page", 1, type=page_number), search),
        search=search,
        upload_form=upload_form or UploadForm(formdata=None),
        paste_form=paste_form or PasteForm(formdata=None),
        error=error,
        chooser=chooser,
        pending=pending,
        editable=editable,
    )
