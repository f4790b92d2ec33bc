"""A list's public sign-up form and the confirmation link: no login, the public layout.

The form's POST comes from the hosted page or from a copy of the snippet on the owner's own site, which
cannot carry our CSRF token, so it is exempt from CSRF and guarded otherwise: a budget per client
address and per list (`LIST_SIGNUP_RATE_LIMIT_*`, app.throttle), a honeypot field no person fills in,
and the double opt-in itself: a post only ever causes one confirmation email per address per list per
`SIGNUP_RESEND_MINUTES`, and nobody joins a list without opening the link in it. Whatever happens to
the address, the page says the same ("check your inbox"), so it tells a stranger nothing about it.

The confirmation link asks before it confirms (GET shows a button, POST confirms, with CSRF: it is a
person's browser), so a mail scanner that opens every link confirms nobody. Pressing it again, within
the link's days, puts the address back on the list: the person asked again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template, request

from app import clock
from app.audiences.signup.links import ConfirmationLinks
from app.audiences.signup.models import ListSignup, SignupRequest
from app.audiences.signup.operations import confirm, request_signup
from app.extensions import csrf, db
from app.forms import EmptyForm
from app.models import User
from app.proxies import client_address
from app.senders import sender_name
from app.sending.message import one_line
from app.sending.unsubscribe_links import UnsubscribeLinks
from app.signup import bp
from app.signup.forms import PublicSignupForm
from app.tasks import enqueue_signup_confirmation
from app.throttle import Budget, throttle
from app.timed_tokens import LinkExpired


def open_form(token: str) -> ListSignup | None:
    """The sign-up form with this public token, if it takes sign-ups."""
    signup = db.session.scalar(sa.select(ListSignup).where(ListSignup.token == token))
    return signup if signup is not None and signup.enabled else None


def page_of(signup: ListSignup) -> dict[str, Any]:
    user = db.session.get(User, signup.user_id)
    assert user is not None  # a list goes with its user
    return {"sender": sender_name(user), "list_name": signup.contact_list.name, "token": signup.token}


@bp.route("/<token>", methods=["GET", "POST"])
@csrf.exempt
def form(token: str) -> str | tuple[str, int]:
    """The hosted form (GET), and where it and the snippet post (POST): ask for a confirmation email."""
    signup = open_form(token)
    if signup is None:
        return render_template("signup/closed.html"), 404
    page = page_of(signup)
    if request.method == "GET":
        return render_template("signup/form.html", form=PublicSignupForm(formdata=None), error=None, **page)
    submitted = PublicSignupForm()
    if submitted.website.data:
        return render_template("signup/check_inbox.html", address=submitted.email.data, **page)
    budgets = (
        Budget.of("LIST_SIGNUP_RATE_LIMIT_PER_IP", f"list-signup-ip:{client_address()}"),
        Budget.of("LIST_SIGNUP_RATE_LIMIT_PER_LIST", f"list-signup-list:{signup.list_id}"),
    )
    if not throttle().spend(*budgets):
        return render_template("signup/too_many.html", **page), 429
    if not submitted.validate():
        return render_template("signup/form.html", form=submitted, error=submitted.first_error(), **page), 400
    address, name = submitted.email.data, submitted.name.data
    resend_after = timedelta(minutes=current_app.config["SIGNUP_RESEND_MINUTES"])
    request_id = request_signup(signup, address, one_line(name), clock.utcnow(), resend_after)
    db.session.commit()
    if request_id is not None:
        enqueue_signup_confirmation(request_id)
    return render_template("signup/check_inbox.html", address=address, **page)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_signup(token: str) -> str | tuple[str, int]:
    """The confirmation email's link: GET asks, POST puts the address on the list."""
    links = ConfirmationLinks.from_config(current_app.config)
    try:
        confirmation = links.read(token)
    except LinkExpired:
        return render_template("signup/expired.html", valid_days=links.tokens.valid_for.days), 400
    signup_request = db.session.get(SignupRequest, confirmation.request_id) if confirmation else None
    if confirmation is None or signup_request is None or signup_request.address != confirmation.address:
        return render_template("signup/invalid.html"), 400
    signup = db.session.get(ListSignup, signup_request.list_id)
    if signup is None or not signup.enabled:
        return render_template("signup/closed.html"), 404
    page = {**page_of(signup), "address": signup_request.address}
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("signup/confirm.html", form=form, confirm_token=token, **page)
    confirm(signup_request, clock.utcnow())
    db.session.commit()
    preferences = UnsubscribeLinks.from_config(current_app.config).preferences_url(
        signup.user_id, signup_request.address, signup.list_id
    )
    return render_template("signup/confirmed.html", preferences=preferences, **page)
