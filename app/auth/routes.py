from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import LoginForm, PasswordChangeForm, SignupForm, find_user
from app.auth.passwords import password_matches
from app.auth.sessions import keep_only_this_session, log_in, log_out
from app.extensions import db, login_manager
from app.models import User
from app.proxies import client_address
from app.throttle import Budget, throttle

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"

#: A path on this site in printable ASCII: no scheme, no host, no spaces, line breaks or control characters.
_LOCAL_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")


def safe_next_url(target: str | None) -> str | None:
    """`target` if it is a path on this site (not `//host`, `https://host` or a header-splitting value)."""
    if not target or not _LOCAL_PATH.fullmatch(target) or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def login_budgets(user: User | None, identifier: str) -> tuple[Budget, Budget]:
    """The account's budget (one for the user, however it was typed) and the client address's."""
    account = f"user:{user.id}" if user else f"name:{identifier.strip().lower()}"
    return Budget.of("LOGIN_RATE_LIMIT", account), Budget.of("LOGIN_RATE_LIMIT_PER_IP", client_address())


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    """Create an account and log straight in."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    if request.method == "POST" and not throttle().spend(
        Budget.of("SIGNUP_RATE_LIMIT_PER_IP", client_address())
    ):
        abort(429)
    form = SignupForm()
    if form.validate_on_submit():
        user = User(
            username=form.username.data, email=form.email.data.strip().lower(), timezone=form.timezone.data
        )
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        log_in(user)
        flash(f"Welcome, {user.username}! Your account is ready.", "success")
        return redirect(url_for("dashboard.index"))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Log in by username or email; failures are throttled per account and per client address."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user(form.identifier.data)
        budgets = login_budgets(user, form.identifier.data)
        if not throttle().spend(*budgets):
            abort(429)
        if password_matches(user, form.password.data):
            throttle().refund(*budgets)
            log_in(user, remember=form.remember.data)
            return redirect(safe_next_url(request.args.get("next")) or url_for("dashboard.index"))
        flash("Wrong username, email or password.", "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Log out everywhere (a POST, so another site cannot log the user out with a link)."""
    log_out()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response:
    """Change the password; every other session of the user's ends."""
    user = current_user._get_current_object()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        budgets = login_budgets(user, user.username)
        if not throttle().spend(*budgets):
            abort(429)
        if password_matches(user, form.current_password.data):
            throttle().refund(*budgets)
            user.set_password(form.password.data)
            keep_only_this_session(user)
            flash("Your password is changed. Every other browser and device has been logged out.", "success")
            return redirect(url_for("settings.index"))
        form.current_password.errors.append("That is not your current password.")
    return render_template("auth/change_password.html", form=form)
