"""Error pages in the site's layout: a clear sentence, never a stack trace."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from app.errors import bp
from app.extensions import db
from app.models import Campaign
from app.ownership import owned

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Forbidden", "You do not have access to that page."),
    404: ("Not found", "There is nothing here. The link may be old, or the item was deleted."),
    405: ("Not allowed", "That page cannot be used this way."),
    413: (
        "File too large",
        "The upload is larger than {max_mb} MB. Split it into smaller files and try again.",
    ),
    429: ("Too many attempts", "You have tried too often. Please wait a minute and try again."),
    500: ("Something went wrong", "An unexpected error happened. Nothing was saved; please try again."),
}

#: The views that take a campaign's recipients: a 413 there leads back to that campaign.
RECIPIENT_UPLOADS = {"campaigns.upload_recipients", "campaigns.paste_recipients"}


def error_page(code: int, detail: str | None = None, back: tuple[str, str] | None = None) -> tuple[str, int]:
    """The error page; `back` is (address, label) of a better way back than the dashboard."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    message = message.format(max_mb=current_app.config["MAX_UPLOAD_MB"])
    page = render_template("errors/error.html", code=code, title=title, message=detail or message, back=back)
    return page, code


def uploading_to() -> Campaign | None:
    """The user's campaign whose recipients the refused request was uploading, if it was one."""
    if request.endpoint not in RECIPIENT_UPLOADS or not current_user.is_authenticated:
        return None
    campaign_id = (request.view_args or {})["campaign_id"]
    return db.session.scalar(owned(Campaign).where(Campaign.id == campaign_id, Campaign.deleted_at.is_(None)))


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """Too big for `MAX_CONTENT_LENGTH`; an upload to a campaign keeps the way back to it."""
    campaign = uploading_to()
    if campaign is None:
        return error_page(413)
    limit = current_app.config["MAX_UPLOAD_MB"]
    return error_page(
        413,
        f"The upload for “{campaign.name}” is larger than {limit} MB, the upload limit, so nothing was "
        "saved. Split it into smaller files and upload each.",
        back=(
            url_for("campaigns.recipients", campaign_id=campaign.id),
            f"Back to the recipients of “{campaign.name}”",
        ),
    )


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> tuple[str, int]:
    return error_page(
        400, "The form had expired or was not sent by this site. Please reload the page and try again."
    )


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int]:
    return error_page(error.code or 500)


@bp.app_errorhandler(InternalServerError)
def server_error(error: InternalServerError) -> tuple[str, int]:
    """A bug's page: Flask has logged the exception already, and re-raises it instead when testing,
    so a view's bug fails its test rather than passing as a 500 page."""
    db.session.rollback()
    return error_page(500)
