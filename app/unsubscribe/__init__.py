from flask import Blueprint

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")

from app.unsubscribe import preferences, routes  # noqa: E402,F401
