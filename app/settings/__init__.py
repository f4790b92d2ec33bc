from flask import Blueprint

# cli_group=None: the area's commands are top-level (`flask rotate-smtp-key`).
bp = Blueprint("settings", __name__, url_prefix="/settings", cli_group=None)

from app.settings import commands, mailbox_routes, routes  # noqa: E402,F401
