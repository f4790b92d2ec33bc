"""`flask recount-campaigns`: check the email counters against the emails, and repair them.

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
    """Recompute the campaigns' and users' email counters from the emails."""
    with db.engine.begin() as connection:
        differences = recount(connection)
    if not differences:
        click.echo("Every email counter agrees with the emails.")
        return
    click.echo(f"Repaired {len(differences)} counter(s) that differed from the emails:")
    for difference in differences:
        click.echo(f"  {difference.counter}: {difference.stored} -> {difference.counted}")
