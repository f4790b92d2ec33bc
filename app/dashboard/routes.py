from flask import render_template
from flask_login import login_required

from app.dashboard import bp


@bp.route("/")
@login_required
def index() -> str:
    """The user's home page."""
    return render_template("dashboard/index.html")
