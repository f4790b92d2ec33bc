from flask import Blueprint

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

from app.campaigns import recipients, report, routes, saved_templates  # noqa: E402,F401
