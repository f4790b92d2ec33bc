from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import clock
from app.extensions import db
from app.forms import EmptyForm
from app.mailbox.connection import imap_host_for
from app.models import SMTPSettings
from app.settings import bp
from app.settings.account import (
    RELEASED,
    RESUMED,
    account_endpoint,
    copy_form,
    current_account,
    emails_waiting,
    in_cooldown,
    password_unreadable,
    release_hold,
    resume_sending,
    save_account,
)
from app.settings.checks import CheckResult, check_connection, send_test_email
from app.settings.forms import ProfileForm, SMTPAccountForm
from app.settings.mailbox import PREFIX as MAILBOX_PREFIX
from app.settings.mailbox import MailboxForm
from app.settings.presets import presets_for_page
from app.smtp_crypto import PasswordUnreadable

NOTHING_TESTED = "Nothing was tested: please correct the fields marked below."


def settings_page(
    account: SMTPSettings | None,
    profile_form: ProfileForm | None = None,
    smtp_form: SMTPAccountForm | None = None,
    mailbox_form: MailboxForm | None = None,
) -> str:
    """The settings page; a form given here keeps what the user typed and its errors."""
    return render_template(
        "settings/index.html",
        form=profile_form or ProfileForm(formdata=None, obj=current_user),
        smtp_form=smtp_form or SMTPAccountForm(formdata=None, obj=account, saved=account),
        mailbox_form=mailbox_form
        or MailboxForm(formdata=None, obj=account.mailbox if account else None, prefix=MAILBOX_PREFIX),
        mailbox=account.mailbox if account else None,
        imap_host=imap_host_for(account.host) if account else "",
        action_form=EmptyForm(),
        account=account,
        waiting=emails_waiting(account) if account else 0,
        cooling_down=account is not None and in_cooldown(account),
        password_unreadable=password_unreadable(account),
        presets=presets_for_page(),
        defaults={
            "send_interval": current_app.config["SEND_INTERVAL"],
            "batch_size": current_app.config["BATCH_SIZE"],
        },
        now=clock.utcnow(),
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> str | Response:
    """The user's own settings: time zone and SMTP account."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.timezone = form.timezone.data
        db.session.commit()
        flash(f"Times are now shown in {current_user.timezone}.", "success")
        return redirect(url_for("settings.index"))
    return settings_page(current_account(), profile_form=form)


@bp.post("/smtp")
@login_required
def save_smtp() -> str | Response:
    """Save the SMTP account (a blank password keeps the saved one)."""
    account = current_account()
    form = SMTPAccountForm(saved=account)
    if not form.validate_on_submit():
        flash("The SMTP account was not saved: please correct the fields marked below.", "danger")
        return settings_page(account, smtp_form=form)
    save_account(form, account)
    db.session.commit()
    flash("SMTP account saved.", "success")
    for warning in form.security_warnings():
        flash(warning, "warning")
    return redirect(url_for("settings.index"))


def try_form(form: SMTPAccountForm) -> CheckResult | None:
    """Validate the form and try its settings against the server, saving nothing; None when the
    form has errors."""
    if not form.validate_on_submit():
        return None
    draft = SMTPSettings()
    copy_form(form, draft)
    return check_connection(account_endpoint(draft, form.chosen_password()))


@bp.post("/smtp/test")
@login_required
def test_smtp() -> tuple[str, int, dict[str, str]]:
    """Try the settings in the form against the server without saving them (the page without
    JavaScript: the form comes back as typed, password included, so "Save" works next)."""
    account = current_account()
    form = SMTPAccountForm(saved=account)
    result = try_form(form)
    if result is None:
        flash(NOTHING_TESTED, "danger")
    else:
        flash(result.message, "success" if result.ok else "danger")
        for warning in form.security_warnings():
            flash(warning, "warning")
    form.keep_typed_password()
    return settings_page(account, smtp_form=form), 200, {"Cache-Control": "no-store"}


@bp.post("/smtp/test.json")
@login_required
def test_smtp_json() -> tuple[Response, int]:
    """The same test for the page's script, which shows the outcome without reloading the form."""
    form = SMTPAccountForm(saved=current_account())
    result = try_form(form)
    if result is None:
        errors = {name: messages for name, messages in form.errors.items() if name != "csrf_token"}
        return jsonify(ok=False, message=NOTHING_TESTED, warnings=[], errors=errors), 422
    return jsonify(ok=result.ok, message=result.message, warnings=form.security_warnings(), errors={}), 200


@bp.post("/smtp/send-test")
@login_required
def send_test() -> Response:
    """Send a short email to the user's own address through the saved account."""
    account = current_account()
    if account is None:
        flash("Save your SMTP account first.", "warning")
        return redirect(url_for("settings.index"))
    try:
        endpoint = account_endpoint(account)
    except PasswordUnreadable as error:
        flash(str(error), "danger")
        return redirect(url_for("settings.index"))
    result = send_test_email(account, endpoint, current_user.email)
    db.session.commit()
    flash(result.message, "success" if result.ok else "danger")
    return redirect(url_for("settings.index"))


@bp.post("/smtp/resume")
@login_required
def resume() -> Response:
    """End the provider's rate-limit cooldown early."""
    account = current_account()
    if account is not None:
        resume_sending(account)
        db.session.commit()
        flash(RESUMED, "info")
    return redirect(url_for("settings.index"))


@bp.post("/smtp/try-again")
@login_required
def try_again() -> Response:
    """The user has dealt with the account problem that held the account: send again."""
    account = current_account()
    if account is not None:
        release_hold(account)
        db.session.commit()
        flash(RELEASED, "info")
    return redirect(url_for("settings.index"))
