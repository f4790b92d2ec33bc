"""`make bench-import`: a 100,000-row CSV imported into a campaign, against `pandas.read_csv` alone.

The file (email, name and three more columns, every address valid and distinct) is generated in a
temporary folder. `pandas.read_csv` reads it first, alone, as the floor: a CSV cannot be read faster
here. Then the whole import is timed as the Save button runs it: the file's bytes through
`app.address_import.import_upload` (reading, column detection, email-validator on every address,
de-duplication, suppression) and `replace_recipients` (COPY into `campaign_recipient`), committed,
into a fresh, migrated PostgreSQL database `bench_import` on the server of `BENCH_DATABASE_URL`.

Peak memory is the process's peak resident set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss`),
interpreter and libraries included: what the server would need. (tracemalloc would see only Python
allocations, miss pandas' and numpy's own, and slow the run down.)
Target (docs/benchmarks.md): under 10 s and under 500 MB.
"""

from __future__ import annotations

import csv
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import flask_migrate
import pandas as pd
import sqlalchemy as sa

from app import create_app
from app.address_import import UploadLimits, import_upload
from app.campaigns.recipients.store import recipient_count, replace_recipients
from app.extensions import db
from app.models import Campaign, User
from bench.common import recreate_database, result_line
from config import celery_settings

ROWS = 100_000
DATABASE = "bench_import"
TARGET_SECONDS = 10.0
TARGET_MB = 500.0
CITIES = ("Kolkata", "Berlin", "São Paulo", "Lyon", "Osaka")


def write_csv(path: Path, rows: int) -> None:
    """email, name, city, company, customer_no: the shape of a real export from a CRM."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name", "city", "company", "customer_no"])
        writer.writerows(
            (
                f"reader.{n}@example{n % 97}.com",
                f"Reader {n}",
                CITIES[n % len(CITIES)],
                f"Company {n % 1000}, Ltd",
                f"{n:07d}",
            )
            for n in range(rows)
        )


def peak_mb() -> float:
    """The process's peak resident set size so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_pandas(path: Path) -> float:
    start = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    seconds = time.perf_counter() - start
    assert len(frame) == ROWS
    return seconds


def time_import(path: Path, campaign: Campaign, limits: UploadLimits) -> tuple[float, float]:
    """Seconds to import the uploaded bytes, then to save and commit them, as the Save button does it."""
    start = time.perf_counter()
    result = import_upload(path.read_bytes(), path.name, limits=limits, suppressed=set())
    imported = time.perf_counter()
    replace_recipients(db.session, campaign, result)
    db.session.commit()
    return imported - start, time.perf_counter() - imported


def main() -> None:
    database_url = recreate_database(DATABASE)
    with tempfile.TemporaryDirectory(prefix=f"{DATABASE}-") as folder:
        app = create_app(
            "development",
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CELERY": celery_settings("filesystem://", Path(folder), 60),
            },
        )
        with app.app_context():
            flask_migrate.upgrade()
            user = User(username="bench", email="bench@example.com", password_hash="-")
            db.session.add(user)
            db.session.flush()
            campaign = Campaign(user_id=user.id, name="Benchmark import")
            db.session.add(campaign)
            db.session.commit()

            path = Path(folder) / "recipients.csv"
            write_csv(path, ROWS)
            size_mb = path.stat().st_size / 1e6
            pandas_seconds = time_pandas(path)
            before_mb = peak_mb()
            import_seconds, save_seconds = time_import(path, campaign, UploadLimits.from_config(app.config))
            saved = recipient_count(campaign)
            assert saved == ROWS, f"{saved} recipients saved, expected {ROWS}"
            server = db.session.scalar(sa.text("SHOW server_version"))
            db.session.remove()
            db.engine.dispose()

    peak = peak_mb()
    seconds = import_seconds + save_seconds
    load = " ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} cores, load {load}, Python {platform.python_version()}, "
        f"PostgreSQL {server}"
    )
    print(f"file: {ROWS:,} rows, 5 columns, {size_mb:.1f} MB")
    print(f"pandas.read_csv alone:   {pandas_seconds:.3f} s")
    print(f"whole import:            {seconds:.2f} s, {ROWS / seconds:,.0f} rows/s")
    print(f"  read and validate:     {import_seconds:.2f} s (import_upload)")
    print(f"  save with COPY:        {save_seconds:.2f} s (replace_recipients and commit)")
    print(f"peak RSS (ru_maxrss):    {peak:.0f} MB ({before_mb:.0f} MB before the import)")
    print(f"target: under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB")
    print(
        result_line(
            rows=ROWS,
            seconds=round(seconds, 2),
            rows_per_s=round(ROWS / seconds),
            peak_mb=round(peak),
            pandas_seconds=round(pandas_seconds, 3),
            ratio=round(seconds / pandas_seconds, 1),
        )
    )


if __name__ == "__main__":
    main()
