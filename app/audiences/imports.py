"""Importing into a list: the campaign recipients' own upload, paste, summary and column choice, then
"Save" upserts by address instead of replacing (see `upsert`).

The stored upload, the import and its review are the recipients import's (`app.recipients` and the
campaign flow's helpers), not a copy: a list takes exactly what a campaign takes.
"""

from __future__ import annotations

import flask
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.address_import import ColumnMap, RecipientFileError, invalid_rows_csv
from app.audiences import bp
from app.audiences.import_tags import tag_column
from app.audiences.lists import list_page
from app.audiences.models import ContactList, ContactSource
from app.audiences.upsert import summary_message, upsert_into_list
from app.campaigns.recipients import uploads
from app.campaigns.recipients.forms import ColumnsForm, PasteForm, UploadForm
from app.campaigns.recipients.routes import (
    ColumnChoiceNeeded,
    Review,
    chosen_columns,
    column_args,
    international_notice,
    review_values,
    run_import,
)
from app.campaigns.recipients.uploads import PendingImport
from app.extensions import db
from app.ownership import owned_or_404


@bp.post("/lists/<int:list_id>/upload")
@login_required
def upload(list_id: int) -> Response | tuple[str, int]:
    """Keep the uploaded file and show what importing it into the list would give."""
    contact_list = owned_or_404(ContactList, list_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return list_page(contact_list, upload_form=form), 400
    file = form.file.data
    pending = uploads.keep(current_user.id, file.read(), file.filename or "upload", uploads.FILE)
    return redirect(review_url(contact_list, pending))


@bp.post("/lists/<int:list_id>/paste")
@login_required
def paste(list_id: int) -> Response | tuple[str, int]:
    """Keep the pasted addresses and show what importing them into the list would give."""
    contact_list = owned_or_404(ContactList, list_id)
    form = PasteForm()
    if not form.validate_on_submit():
        return list_page(contact_list, paste_form=form), 400
    data = form.addresses.data.encode("utf-8")
    pending = uploads.keep(current_user.id, data, "pasted addresses", uploads.PASTE)
    return redirect(review_url(contact_list, pending))


@bp.route("/lists/<int:list_id>/review/<token>")
@login_required
def review(list_id: int, token: str) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The summary (accepted, invalid, duplicate, suppressed) and the button that adds or updates.

    Never kept by the browser, so its back button after a save asks again and hears it was saved.
    """
    contact_list = owned_or_404(ContactList, list_id)
    pending = unsaved_upload_or_explain(contact_list, token)
    columns = chosen_columns(request.args)
    try:
        checked = run_import(pending, columns)
    except ColumnChoiceNeeded as problem:
        chooser = ColumnsForm(formdata=None).offer(problem.headers)
        return render_template(
            "audiences/review.html",
            contact_list=contact_list,
            pending=pending,
            error=problem.message,
            chooser=chooser,
            result=None,
        ), 422
    except RecipientFileError as problem:
        pending.discard()
        return list_page(contact_list, error=problem.message), 422
    return (
        render_template(
            "audiences/review.html",
            contact_list=contact_list,
            tag_key=tag_column(checked.result),
            error=None,
            **review_values(pending, checked, columns),
        ),
        200,
        {"Cache-Control": "no-store"},
    )


@bp.route("/lists/<int:list_id>/review/<token>/invalid.csv")
@login_required
def invalid_csv(list_id: int, token: str) -> Response:
    """The refused rows as CSV, every cell safe to open in a spreadsheet."""
    contact_list = owned_or_404(ContactList, list_id)
    pending = unsaved_upload_or_explain(contact_list, token)
    checked = import_or_refuse(contact_list, pending, chosen_columns(request.args))
    return flask.Response(
        invalid_rows_csv(checked.result).encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=invalid-contacts.csv"},
    )


@bp.post("/lists/<int:list_id>/save/<token>")
@login_required
def save(list_id: int, token: str) -> Response:
    """Add the new contacts, update the known ones, and put them all on the list, in one commit."""
    contact_list = owned_or_404(ContactList, list_id)
    pending = unsaved_upload_or_explain(contact_list, token)
    columns = chosen_columns(request.args)
    checked = import_or_refuse(contact_list, pending, columns)
    if not checked.result.recipients:
        flash("There is not one valid address in this list, so nothing was saved.", "danger")
        return redirect(review_url(contact_list, pending, columns))
    summary = upsert_into_list(db.session(), contact_list, checked.result, ContactSource.IMPORT)
    db.session.commit()
    pending.mark_saved(contact_list.id)
    flash(summary_message(contact_list, summary), "success")
    if checked.result.international:
        flash(international_notice(checked.result.international), "info")
    return redirect(url_for("audiences.show_list", list_id=contact_list.id))


def unsaved_upload_or_explain(contact_list: ContactList, token: str) -> PendingImport:
    """The user's stored upload, not yet saved; one already saved leads back to the list with a word.

    The upload store notes a save by the id it went to: here, a list's id.
    """
    pending = uploads.find_or_404(current_user.id, token)
    if pending.saved_to is not None:
        flash("These contacts were already imported — see the list below.", "info")
        abort(redirect(url_for("audiences.show_list", list_id=contact_list.id)))
    return pending


def import_or_refuse(contact_list: ContactList, pending: PendingImport, columns: ColumnMap | None) -> Review:
    """`run_import`, or back to the list with the reason (the review showed it already)."""
    try:
        return run_import(pending, columns)
    except RecipientFileError as problem:
        flash(problem.message, "danger")
        abort(redirect(url_for("audiences.show_list", list_id=contact_list.id)))


def review_url(contact_list: ContactList, pending: PendingImport, columns: ColumnMap | None = None) -> str:
    return url_for("audiences.review", list_id=contact_list.id, token=pending.token, **column_args(columns))
