"""Log-ins that end when they should: at log-out, at a password change, and after REMEMBER_ME_DAYS.

Flask's session cookie is signed, not stored, so the server ends it another way: the cookie holds the
user's id and their current session token (`User.get_id`), checked on every request; a new token
(`User.end_sessions`, at log-out and at a password change) turns every earlier cookie away, copies
included. "Remember me" makes the cookie last across browser restarts (a permanent session) and Flask
refuses any session cookie signed longer ago than PERMANENT_SESSION_LIFETIME (REMEMBER_ME_DAYS), so a
remembered log-in ends by itself too.
"""

from __future__ import annotations

import hmac
import re

from flask import current_app, g, session
from flask_login import current_user, login_user, logout_user

from app.extensions import db, login_manager
from app.models import User

_SESSION_ID = re.compile(r"(\d{1,18}):([A-Za-z0-9_-]{16,64})")


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user whose session this is, if its token is still theirs."""
    match = _SESSION_ID.fullmatch(session_id)
    if match is None:
        return None
    user = db.session.get(User, int(match[1]))
    if user is None or not hmac.compare_digest(user.session_token, match[2]):
        return None
    return user


def start_fresh_session() -> None:
    """Drop everything the session held, the CSRF secret included, so nothing set before a log-in
    (by the user or by someone who planted the cookie) carries over into it."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def log_in(user: User, remember: bool = False) -> None:
    start_fresh_session()
    session.permanent = remember
    login_user(user)


def log_out() -> None:
    """End this session and every other of the user's, remembered ones included."""
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    start_fresh_session()
    logout_user()


def keep_only_this_session(user: User) -> None:
    """After a password change: every other session of the user's ends, this one goes on."""
    remembered = session.permanent
    user.end_sessions()
    db.session.commit()
    log_in(user, remember=remembered)
