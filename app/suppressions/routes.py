"""The Suppressions page: the user's list of addresses never to mail again, searchable and paginated;
addresses added by hand or from a file (read by the recipients import: any file with an email column),
and removed one by one."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.address_import import ImportResult, RecipientFileError, UploadLimits, import_paste, import_upload
from app.bounds import page_number
from app.extensions import db
from app.forms import EmptyForm, search_text
from app.models import Suppression, SuppressionReason
from app.ownership import owned, owned_or_404
from app.suppression_list import suppress
from app.suppressions import bp
from app.suppressions.forms import AddForm, ImportForm
from app.suppressions.operations import suppressed_addresses

PER_PAGE = 50
#: How many invalid entries a flash message quotes.
QUOTED = 3


@bp.route("/")
@login_required
def index() -> str:
    """The list, newest first; `q` searches the addresses."""
    return suppressions_page(AddForm(formdata=None), ImportForm(formdata=None))


def suppressions_page(add_form: AddForm, import_form: ImportForm) -> str:
    search = search_text(request.args).lower()
    query = owned(Suppression).order_by(Suppression.created_at.desc(), Suppression.id.desc())
    if search:
        query = query.where(Suppression.address.contains(search, autoescape=True))
    page = db.paginate(
        query, page=request.args.get("page", 1, type=page_number), per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "suppressions/index.html",
        page=page,
        search=search,
        add_form=add_form,
        import_form=import_form,
        remove_form=EmptyForm(),
    )


@bp.post("/add")
@login_required
def add() -> str | Response:
    """Suppress typed or pasted addresses (one a line, or separated by commas or semicolons)."""
    form = AddForm()
    if not form.validate_on_submit():
        return suppressions_page(form, ImportForm(formdata=None))
    limits = UploadLimits.from_config(current_app.config)
    try:
        result = import_paste(form.addresses.data, limits=limits, suppressed=listed())
    except RecipientFileError as problem:
        flash(f"Nothing added: {problem.message}", "danger")
        return redirect(url_for("suppressions.index"))
    return add_imported(result)


@bp.post("/import")
@login_required
def import_file() -> str | Response:
    """Suppress every address of a CSV or .xlsx file's email column."""
    form = ImportForm()
    if not form.validate_on_submit():
        return suppressions_page(AddForm(formdata=None), form)
    upload = form.file.data
    limits = UploadLimits.from_config(current_app.config)
    try:
        result = import_upload(upload.read(), upload.filename or "upload", limits=limits, suppressed=listed())
    except RecipientFileError as problem:
        flash(f"Nothing imported: {problem.message}", "danger")
        return redirect(url_for("suppressions.index"))
    return add_imported(result)


def listed() -> set[str]:
    """The current list, read in a transaction ended at once: a big import takes seconds."""
    addresses = suppressed_addresses(current_user.id)
    db.session.rollback()
    return addresses


def add_imported(result: ImportResult) -> Response:
    added = suppress(current_user.id, (row.address for row in result.recipients), SuppressionReason.MANUAL)
    db.session.commit()
    already = len(result.recipients) - added + len(result.suppressed)
    message = f"{added:,} address{'es' if added != 1 else ''} added to your suppressions"
    if already:
        message += f"; {already:,} already there"
    flash(message + ".", "success" if added else "info")
    if result.invalid:
        quoted = ", ".join(f"“{row.value}”" for row in result.invalid[:QUOTED])
        flash(
            f"{len(result.invalid):,} entries are not valid addresses and were skipped: {quoted}…", "warning"
        )
    return redirect(url_for("suppressions.index"))


@bp.post("/<int:suppression_id>/remove")
@login_required
def remove(suppression_id: int) -> Response:
    """Mail this address again (only a person's own request should lead here)."""
    suppression = owned_or_404(Suppression, suppression_id)
    db.session.delete(suppression)
    db.session.commit()
    flash(f"{suppression.address} removed from your suppressions: it can be mailed again.", "success")
    return redirect(url_for("suppressions.index", q=request.args.get("q") or None))
