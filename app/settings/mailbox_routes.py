"""The mailbox section of the settings page: save it, and test it without saving."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app.extensions import db
from app.settings import bp
from app.settings.account import current_account
from app.settings.mailbox import PREFIX, MailboxForm, check_mailbox, form_endpoint, save_mailbox
from app.settings.routes import settings_page
from app.smtp_crypto import PasswordUnreadable

NO_ACCOUNT = "Save your SMTP account first: the mailbox belongs to it."
NOT_SAVED = "The mailbox was not saved: please correct the fields marked below."


@bp.post("/mailbox")
@login_required
def save_mailbox_settings() -> str | Response:
    """Save the mailbox settings (a blank password keeps the saved one, or uses the SMTP password)."""
    account = current_account()
    if account is None:
        flash(NO_ACCOUNT, "warning")
        return redirect(url_for("settings.index"))
    form = MailboxForm(prefix=PREFIX)
    if not form.validate_on_submit():
        flash(NOT_SAVED, "danger")
        return settings_page(account, mailbox_form=form)
    mailbox = save_mailbox(form, account)
    db.session.commit()
    state = "read every few minutes" if mailbox.enabled else "saved, not read until you turn reading on"
    flash(f"Mailbox settings saved: the mailbox is {state}.", "success")
    return redirect(url_for("settings.index"))


@bp.post("/mailbox/test")
@login_required
def test_mailbox() -> tuple[str, int, dict[str, str]] | Response:
    """Log in to the mailbox with the form's values and look at its folders; nothing is saved."""
    account = current_account()
    if account is None:
        flash(NO_ACCOUNT, "warning")
        return redirect(url_for("settings.index"))
    form = MailboxForm(prefix=PREFIX)
    if not form.validate_on_submit():
        flash("Nothing was tested: please correct the fields marked below.", "danger")
    else:
        try:
            result = check_mailbox(form_endpoint(form, account), form.folders.data.splitlines())
            flash(result.message, "success" if result.ok else "danger")
        except PasswordUnreadable as error:
            flash(str(error), "danger")
    return settings_page(account, mailbox_form=form), 200, {"Cache-Control": "no-store"}
