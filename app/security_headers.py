"""The headers every response carries so the browser limits what a page may do.

The Content-Security-Policy allows scripts from this site's own files only: no inline script, no
`eval`, no event-handler attributes (every script lives under `app/static/`; the JSON a page hands its
script is a `<script type="application/json">` block, which is data, not code). Styles may be inline:
Bootstrap's components and Quill set style attributes, and an email's own HTML, shown in the campaign
page's preview, is styled inline. The preview is a sandboxed `srcdoc` iframe: it inherits this policy,
so a script in an email never runs there, and its images may come from any https address, as they
would in a mail reader. No other site may frame a page (`frame-ancestors`, `X-Frame-Options`).
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "child-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    #: Our own pages get the Referer (the Origin check falls back on it); other sites get nothing,
    #: not even the address of a campaign's report a link was followed from.
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    max_age = current_app.config["HSTS_MAX_AGE"]
    if request.is_secure and max_age:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
