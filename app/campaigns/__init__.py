from flask import Blueprint

# cli_group=None: the area's commands are top-level (`flask recount-campaigns`).
bp = Blueprint("campaigns", __name__, url_prefix="/campaigns", cli_group=None)

# The modules that register views and commands on `bp`: importing them is what adds them.
from app.campaigns import commands, routes  # noqa: E402,F401
from app.campaigns.recipients import routes as recipients_routes  # noqa: E402,F401
from app.campaigns.report import routes as report_routes  # noqa: E402,F401
from app.campaigns.saved_templates import routes as saved_templates_routes  # noqa: E402,F401
