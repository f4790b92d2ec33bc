"""A list's sign-up page: the switch and the account of its public form, the form's address and the
snippet to copy, and how its recent sign-ups went (a confirmation that could not go says why)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.audiences import bp
from app.audiences.forms import SignupSettingsForm
from app.audiences.models import ContactList
from app.audiences.signup.models import ListSignup, SignupRequest, SignupStatus
from app.audiences.signup.operations import form_of
from app.extensions import db
from app.models import SMTPSettings
from app.ownership import owned, owned_or_404

#: Sign-ups listed on the page, newest first.
RECENT = 20


def public_url(signup: ListSignup) -> str:
    """The hosted form's address, as people outside see the app (`PUBLIC_BASE_URL`)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("signup.form", token=signup.token)


def account_choices() -> list[tuple[int, str]]:
    accounts = db.session.scalars(owned(SMTPSettings).order_by(SMTPSettings.id))
    return [(account.id, f"{account.from_address} ({account.host})") for account in accounts]


@bp.route("/lists/<int:list_id>/signup", methods=["GET", "POST"])
@login_required
def signup_settings(list_id: int) -> str | Response | tuple[str, int]:
    """The list's sign-up form: its settings (POST saves them: on or off, and the account its
    confirmations go through), its address, the snippet and the recent sign-ups."""
    contact_list = owned_or_404(ContactList, list_id)
    signup = form_of(contact_list.id, current_user.id)
    if request.method == "GET":
        db.session.commit()
        data = {"enabled": signup.enabled, "smtp_account": signup.smtp_account_id}
        return signup_page(contact_list, signup, SignupSettingsForm(formdata=None, data=data))
    form = SignupSettingsForm().offer(account_choices())
    if not form.validate_on_submit():
        return signup_page(contact_list, signup, form), 400
    signup.enabled = form.enabled.data
    signup.smtp_account_id = form.smtp_account.data
    db.session.commit()
    flash(
        "Sign-up is on: share the form's address or paste the snippet into your site."
        if signup.enabled
        else "Sign-up is off: the form takes no sign-ups.",
        "success",
    )
    return redirect(url_for("audiences.signup_settings", list_id=contact_list.id))


def signup_page(contact_list: ContactList, signup: ListSignup, form: SignupSettingsForm) -> str:
    url = public_url(signup)
    counts = dict(
        db.session.execute(
            sa.select(SignupRequest.status, sa.func.count())
            .where(SignupRequest.list_id == contact_list.id)
            .group_by(SignupRequest.status)
        ).all()
    )
    recent = db.session.scalars(
        sa.select(SignupRequest)
        .where(SignupRequest.list_id == contact_list.id)
        .order_by(SignupRequest.requested_at.desc(), SignupRequest.id.desc())
        .limit(RECENT)
    )
    return render_template(
        "audiences/signup.html",
        contact_list=contact_list,
        signup=signup,
        form=form.offer(account_choices()),
        url=url,
        snippet=render_template("signup/snippet.html", action=url, list_name=contact_list.name),
        counts=counts,
        statuses=SignupStatus.ALL,
        recent=list(recent),
    )
