from flask import Blueprint

bp = Blueprint("suppressions", __name__, url_prefix="/suppressions")

from app.suppressions import routes  # noqa: E402,F401
