from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.extensions import db
from app.settings import bp
from app.settings.forms import ProfileForm


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> str | Response:
    """The user's own settings: time zone (SMTP account settings join them here)."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.timezone = form.timezone.data
        db.session.commit()
        flash(f"Times are now shown in {current_user.timezone}.", "success")
        return redirect(url_for("settings.index"))
    return render_template("settings/index.html", form=form)
