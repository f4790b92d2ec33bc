"""CSRF protection that also checks where a POST comes from, over plain HTTP too.

Flask-WTF checks the token of every POST, and the Referer only over HTTPS (`WTF_CSRF_SSL_STRICT`).
This adds a check of the `Origin` header (or, without one, the `Referer`) to every request whose token
is checked, whatever the scheme: a page of another site that got hold of a token still cannot post.
The views exempt from CSRF are exempt from this too: the RFC 8058 one-click unsubscribe comes from a
mail provider's server, with no Origin, and its signed token is the proof.

A request with neither header is let through on its token alone. Every browser of the last years
sends `Origin` with a form POST (Chrome 80+, Firefox 70+, Safari 14+), so only old clients, scripts
and privacy tools that strip both come without; refusing them would lock those users out and stop
no attack the token does not already stop. A present but foreign (or `null`) origin is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, request
from flask_wtf.csrf import CSRFProtect


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased; an empty string if it has none."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins() -> set[str]:
    """This request's own origin, and the public address the app is configured with (the one a
    browser sees behind a proxy that terminates TLS)."""
    return {origin_of(request.host_url), origin_of(current_app.config["PUBLIC_BASE_URL"])} - {""}


def foreign_origin() -> str | None:
    """The origin a request claims when it is not ours, or None when it is ours or unstated."""
    claimed = request.headers.get("Origin")
    if claimed is None:
        referrer = request.headers.get("Referer")
        if not referrer:
            return None
        claimed = origin_of(referrer) or referrer
    elif claimed != "null":
        claimed = origin_of(claimed) or claimed
    return None if claimed in allowed_origins() else claimed


class OriginCheckedCSRF(CSRFProtect):
    def protect(self, apply_exemptions: bool = False) -> None:
        super().protect(apply_exemptions)
        if g.get("csrf_valid"):  # the token was checked: this request is one we protect
            foreign = foreign_origin()
            if foreign is not None:
                self._error_response(f"The request came from another site ({foreign[:100]}).")
