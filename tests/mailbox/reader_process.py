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
        baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        report = read_mailbox(int(sys.argv[1]), ReadSettings.from_config(app.config), decrypt_password)
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"messages": report.messages, "recorded": report.recorded, "error": report.error,
                      "baseline_mb": baseline_kb / 1024, "peak_mb": peak_kb / 1024}))  # fmt: skip


if __name__ == "__main__":
    main()
