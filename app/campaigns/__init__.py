from flask import Blueprint

# cli_group=None: the area's commands are top-level (`flask recount-campaigns`).
bp = Blueprint("campaigns", __name__, url_prefix="/campaigns", cli_group=None)

from app.campaigns import commands, recipients, report, routes, saved_templates  # noqa: E402,F401
