"""Imports upload bombs one after the other and prints, for each, its answer, seconds and peak memory.

Run by tests/security/test_uploads.py as a process of its own, `python -m tests.security.bomb_import_costs
'[[name, builder, filename], ...]'`, so that the peak resident memory is the import's, numpy's and
openpyxl's C allocations included, and not the test run's.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from app.address_import import RecipientFileError, import_upload
from tests import upload_bombs


def peak_mb() -> float:
    """VmHWM, this process's peak resident memory: ru_maxrss would count the parent's from before exec."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def main(bombs: list[list[str]]) -> None:
    for name, builder, filename in bombs:
        data = getattr(upload_bombs, builder)()
        start = time.perf_counter()
        try:
            import_upload(data, filename, limits=upload_bombs.DEFAULT_LIMITS)
            answer = None
        except RecipientFileError as refused:
            answer = refused.message
        seconds = time.perf_counter() - start
        print(
            json.dumps({"name": name, "answer": answer, "seconds": seconds, "peak_mb": peak_mb()}), flush=True
        )


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
