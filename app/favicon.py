"""The app's icon: `static/favicon.svg`, linked from every page and also answered at `/favicon.ico`,
the address browsers and tools ask for when a page names no icon (a 404 there fills the logs)."""

from __future__ import annotations

from flask import Flask, current_app, send_from_directory
from werkzeug.wrappers import Response

ICON = "favicon.svg"
#: A day: the icon changes rarely, and a browser asks for it on every page otherwise.
ICON_MAX_AGE = 86_400


def favicon() -> Response:
    folder = current_app.static_folder
    assert folder is not None, "create_app keeps Flask's static folder"
    return send_from_directory(folder, ICON, mimetype="image/svg+xml", max_age=ICON_MAX_AGE)


def init_app(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon)
