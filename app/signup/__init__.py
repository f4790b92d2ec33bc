from flask import Blueprint

bp = Blueprint("signup", __name__, url_prefix="/subscribe")

from app.signup import routes  # noqa: E402,F401
