"""The app's icon: `static/favicon.svg`, linked from every page and also answered at `/favicon.ico`,
the address browsers and tools ask for when a page names no icon (a 404 there fills the logs)."""

from __future__ import annotations

from flask import Flask, Response, current_app, send_from_directory

ICON = "favicon.svg"
#: A day: the icon changes rarely, and a browser asks for it on every page otherwise.
ICON_MAX_AGE = 86_400


def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder, ICON, mimetype="image/svg+xml", max_age=ICON_MAX_AGE
    )


def init_app(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon)
