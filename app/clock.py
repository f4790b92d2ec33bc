"""The one clock the app reads.

Every timestamp is naive UTC (databases differ in how they keep time zones; UTC everywhere avoids the
question) and is converted to the user's zone only at the edges. Tests move time by replacing `utcnow`
on this module, so callers write `clock.utcnow()`, never `from app.clock import utcnow`.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
