"""The public unsubscribe page: no login, the signed token in the URL is the proof.

GET asks for confirmation (a link scanner that follows links must not unsubscribe anyone); POST
unsubscribes at once. The POST is also RFC 8058's one-click request, which the mailbox provider sends
with no cookie and no CSRF token: it is exempt from CSRF, never redirects, and is idempotent.

A test email's link (`UnsubscribeLinks.test_url`) shows what it is and unsubscribes nobody. After
unsubscribing, the page offers to subscribe again, through a link that expires (`resubscribe`); that
form is a person's, in their browser, so it carries a CSRF token.

The pages use the public layout: the sender's name, not the app's navigation, which is of no use to
a recipient.

Not rate-limited per IP address: the one-click POSTs of a big campaign all come from a few of the
provider's servers, and refusing one would keep mailing someone who left. A token can't be guessed
(HMAC), so throttling would protect nothing.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request

from app.extensions import csrf, db
from app.forms import EmptyForm
from app.models import SuppressionReason, User
from app.senders import sender_name
from app.sending.unsubscribe_links import Link, UnsubscribeLinks
from app.suppression_list import suppress
from app.suppressions.operations import resubscribe, suppression_reason
from app.timed_tokens import LinkExpired
from app.unsubscribe import bp
from app.unsubscribe.resubscribe import VALID_FOR, ResubscribeLinks


def page_for(link: Link) -> dict[str, Any] | None:
    """What every page of a link shows, or None when its user no longer exists."""
    user = db.session.get(User, link.user_id)
    if user is None:
        return None
    return {"address": link.address, "sender": sender_name(user), "valid_days": VALID_FOR.days}


@bp.route("/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> str | tuple[str, int]:
    """Confirm (GET) or unsubscribe (POST, including the one-click POST of mail providers)."""
    link = UnsubscribeLinks.from_config(current_app.config).read(token)
    page = page_for(link) if link else None
    if link is None or page is None:
        return render_template("unsubscribe/invalid.html"), 400
    if link.test:
        return render_template("unsubscribe/test_link.html", **page)
    page["token"] = token
    if request.method == "POST":
        suppress(link.user_id, [link.address], SuppressionReason.UNSUBSCRIBED)
        db.session.commit()
        if suppression_reason(link.user_id, link.address) == SuppressionReason.UNSUBSCRIBED:
            page["again"] = ResubscribeLinks.from_config(current_app.config).token(link.user_id, link.address)
        return render_template("unsubscribe/done.html", form=EmptyForm(), **page)
    return render_template("unsubscribe/confirm.html", **page)


@bp.route("/again/<token>", methods=["GET", "POST"])
def subscribe_again(token: str) -> str | tuple[str, int]:
    """Undo an unsubscribe, within `resubscribe.VALID_FOR`: GET asks, POST does it."""
    try:
        link = ResubscribeLinks.from_config(current_app.config).read(token)
    except LinkExpired:
        return render_template("unsubscribe/again_expired.html", valid_days=VALID_FOR.days), 400
    page = page_for(link) if link else None
    if link is None or page is None:
        return render_template("unsubscribe/invalid.html"), 400
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("unsubscribe/again.html", form=form, token=token, **page)
    resubscribe(link.user_id, link.address)
    db.session.commit()
    again = UnsubscribeLinks.from_config(current_app.config).token(link.user_id, link.address)
    return render_template("unsubscribe/subscribed.html", token=again, **page)
