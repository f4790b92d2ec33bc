"""`make run`'s process runner: honcho with the Procfile, given time for a warm shutdown.

Honcho stops every process with SIGTERM when one stops or on Ctrl-C, and SIGKILLs whatever is still
running 5 seconds after the first one ended. A worker's warm shutdown lets the email in flight finish,
which may take up to `SMTP_TIMEOUT` on a slow server, and a loaded machine makes every process slower to
exit, so this runner gives them `STOP_GRACE` seconds instead. Ctrl-C is how a run ends, so it exits 0
then (honcho's own status would be 130, which make reports as "Error 130").
"""

from __future__ import annotations

import sys

from honcho import manager
from honcho.command import main as honcho

from config import Config

#: Seconds between honcho's SIGTERM and its SIGKILL: a worker's longest warm shutdown and some room.
STOP_GRACE = Config.SMTP_TIMEOUT + 15
#: Honcho's exit status after Ctrl-C (SIGINT).
INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int | str | None:
    """Run `honcho start` (with any further arguments); honcho's exit status, Ctrl-C counting as 0."""
    manager.KILL_WAIT = STOP_GRACE
    try:
        honcho(["start", *(sys.argv[1:] if argv is None else argv)])
    except SystemExit as stopped:
        return 0 if stopped.code == INTERRUPTED else stopped.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
