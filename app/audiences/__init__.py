"""The Audience area: contacts and lists that last across campaigns (issue 18)."""

from flask import Blueprint

bp = Blueprint("audiences", __name__, url_prefix="/audience")

from app.audiences import contacts, imports, lists, segment_pages, signup_pages  # noqa: E402,F401
