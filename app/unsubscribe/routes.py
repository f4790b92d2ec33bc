"""The public unsubscribe page: no login, the signed token in the URL is the proof.

GET asks for confirmation (a link scanner that follows links must not unsubscribe anyone); POST
unsubscribes at once. The POST is also RFC 8058's one-click request, which the mailbox provider sends
with no cookie and no CSRF token: it is exempt from CSRF, never redirects, and is idempotent.

Not rate-limited per IP address: the one-click POSTs of a big campaign all come from a few of the
provider's servers, and refusing one would keep mailing someone who left. A token can't be guessed
(HMAC), so throttling would protect nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template, request

from app.extensions import csrf, db
from app.models import SMTPSettings, SuppressionReason, User
from app.sending.unsubscribe_links import UnsubscribeLinks
from app.suppressions.operations import suppress
from app.unsubscribe import bp


@bp.route("/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> str | tuple[str, int]:
    """Confirm (GET) or unsubscribe (POST, including the one-click POST of mail providers)."""
    found = UnsubscribeLinks.from_config(current_app.config).read(token)
    user = db.session.get(User, found[0]) if found else None
    if user is None:
        return render_template("unsubscribe/invalid.html"), 400
    address = found[1]
    sender = db.session.scalar(
        sa.select(SMTPSettings.from_name).where(SMTPSettings.user_id == user.id).limit(1)
    )
    page = {"address": address, "sender": sender or user.username, "token": token}
    if request.method == "POST":
        suppress(user.id, [address], SuppressionReason.UNSUBSCRIBED)
        db.session.commit()
        return render_template("unsubscribe/done.html", **page)
    return render_template("unsubscribe/confirm.html", **page)
