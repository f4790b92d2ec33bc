from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import LoginForm, SignupForm
from app.extensions import db, limiter, login_manager
from app.models import User

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def safe_next_url(target: str | None) -> str | None:
    """`target` if it stays on this site (a path, not `//host` or `https://host`), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def login_attempt_key() -> str:
    """Failed logins are also counted per account, whichever way the user typed it."""
    return "login:" + request.form.get("identifier", "").strip().lower()


def login_failed(response: Response) -> bool:
    return response.status_code != 302


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    """Create an account and log straight in."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignupForm()
    if form.validate_on_submit():
        user = User(
            username=form.username.data, email=form.email.data.strip().lower(), timezone=form.timezone.data
        )
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        login_user(user)
        flash(f"Welcome, {user.username}! Your account is ready.", "success")
        return redirect(url_for("dashboard.index"))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_IP"], methods=["POST"], deduct_when=login_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=login_attempt_key,
    methods=["POST"],
    deduct_when=login_failed,
)
def login() -> str | Response:
    """Log in by username or email."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        identifier = form.identifier.data.strip()
        user = db.session.scalar(
            sa.select(User).where(
                sa.or_(sa.func.lower(User.username) == identifier.lower(), User.email == identifier.lower())
            )
        )
        if user is not None and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            return redirect(safe_next_url(request.args.get("next")) or url_for("dashboard.index"))
        flash("Wrong username, email or password.", "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Log out (a POST, so another site cannot log the user out with a link)."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
