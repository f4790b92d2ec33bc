"""Reads one mailbox in a process of its own, as a worker would, and prints its report and peak RSS.

python -m tests.mailbox.reader_process MAILBOX_ID   (DATABASE_URL, SMTP_ENCRYPTION_KEY and
                                                     MAILBOX_CHUNK from the environment)
"""

from __future__ import annotations

import json
import os
import resource
import sys

from app import create_app
from app.mailbox.reader import ReadSettings, read_mailbox
from app.smtp_crypto import decrypt_password


def main() -> None:
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"],
            "MAILBOX_CHUNK": int(os.environ["MAILBOX_CHUNK"]),
        },
    )
    with app.app_context():
        baseline_kb, before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resident_kb()
        report = read_mailbox(int(sys.argv[1]), ReadSettings.from_config(app.config), decrypt_password)
        peak_kb, after_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resident_kb()
    print(json.dumps({"messages": report.messages, "recorded": report.recorded, "error": report.error,
                      "finished": report.finished, "folders": report.folders,
                      "baseline_mb": baseline_kb / 1024, "peak_mb": peak_kb / 1024,
                      "rss_before_mb": before_kb / 1024, "rss_after_mb": after_kb / 1024}))  # fmt: skip


def resident_kb() -> int:
    """The process's resident memory now (VmRSS), where `ru_maxrss` gives only its highest so far."""
    for line in open("/proc/self/status"):  # noqa: SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
