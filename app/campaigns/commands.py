"""`flask recount-campaigns`: check every campaign's email counters against its emails, and repair them.

The counters are kept by database triggers (`app.email_counts`), so they should never differ; this is
the operator's check after restoring a backup or editing emails by hand, and the repair if they do.
"""

from __future__ import annotations

import click

from app.campaigns import bp
from app.email_counts import recount
from app.extensions import db


@bp.cli.command("recount-campaigns")
def recount_campaigns() -> None:
    """Recompute every campaign's email counters from its emails."""
    with db.engine.begin() as connection:
        differences = recount(connection)
    if not differences:
        click.echo("Every campaign's email counters agree with its emails.")
        return
    click.echo(f"Repaired {len(differences)} counter(s) that differed from the emails:")
    for campaign_id, status, counted, stored in differences:
        click.echo(f"  campaign {campaign_id}, {status}: {stored} -> {counted}")
