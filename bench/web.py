"""`make bench-web`: the dashboard, a campaign report (first, last, filtered and searched pages) and
the stats endpoints with 1,000,000 emails.

One user owns a million emails on PostgreSQL: a campaign of 500,000 that is sending (380,000 sent,
5,000 failed, 115,000 pending) and ten completed ones of 50,000 (49,000 sent, 1,000 failed), sent
over the last 30 days. The app runs under gunicorn (`WEB_WORKERS` processes), and each page is first
timed alone (`SOLO_REQUESTS` requests one after another: the server time of one request), then driven
by wrk with `CONNECTIONS` connections for `DURATION` seconds. Target: every page under 200 ms alone.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app import clock
from app.extensions import db
from app.models import Campaign, SMTPSettings, User
from app.states import CampaignStatus
from bench.common import bench_app, result_line, run, vacuum_analyze
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "bench", "bench-password-1"
BIG = {"sent": 380_000, "failed": 5_000, "pending": 115_000}
COMPLETED = {"sent": 49_000, "failed": 1_000, "pending": 0}
COMPLETED_CAMPAIGNS = 10
WEB_WORKERS = 4
CONNECTIONS = 32
DURATION = 30
SOLO_REQUESTS = 20
#: A request wrk waits for longer than this counts as an error (its default, 2 s, is too short here).
WRK_TIMEOUT = 10
#: wrk's own summary has no 95th percentile; this script prints the figures the benchmark reports.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH rps=%.2f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f errors=%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, errors))
end
"""
WRK_RESULT = re.compile(r"BENCH (.*)")


def load_emails(campaign: Campaign, counts: dict[str, int]) -> None:
    """The campaign's emails in one INSERT ... SELECT: sent ones spread over 30 days, then failed, then
    pending (due now)."""
    now = clock.utcnow()
    db.session.execute(
        sa.text(
            """
            INSERT INTO email (user_id, campaign_id, smtp_account_id, address, name, merge_data, status,
                               scheduled_at, attempts, sent_at, last_smtp_code, last_smtp_message)
            SELECT :user, :campaign, :account, 'c' || :campaign || 'r' || i || '@rcpt.example',
                   'Reader ' || i, '{}',
                   CASE WHEN i < :sent THEN 'sent' WHEN i < :sent + :failed THEN 'failed' ELSE 'pending' END,
                   :start,
                   CASE WHEN i >= :sent AND i < :sent + :failed THEN 5 ELSE 0 END,
                   CASE WHEN i < :sent THEN :now - random() * interval '30 days' END,
                   CASE WHEN i >= :sent AND i < :sent + :failed THEN 550 END,
                   CASE WHEN i >= :sent AND i < :sent + :failed THEN '5.1.1 user unknown' END
            FROM generate_series(0, :total - 1) AS i
            """
        ),
        {
            "user": campaign.user_id,
            "campaign": campaign.id,
            "account": campaign.smtp_account_id,
            "start": now - timedelta(days=30),
            "now": now,
            "total": sum(counts.values()),
            **counts,
        },
    )


def seed_million() -> int:
    """The user, their account and campaigns, a million emails; returns the big campaign's id."""
    user = User(username=USERNAME, email="bench@example.com", password_hash=generate_password_hash(PASSWORD))
    db.session.add(user)
    db.session.flush()
    account = SMTPSettings(user_id=user.id, host="127.0.0.1", port=9, from_address="bench@example.com")
    db.session.add(account)
    db.session.flush()
    start = clock.utcnow() - timedelta(days=30)

    def campaign(name: str, status: str) -> Campaign:
        made = Campaign(
            user_id=user.id, smtp_account_id=account.id, name=name, status=status, scheduled_at=start
        )
        db.session.add(made)
        db.session.flush()
        return made

    big = campaign("Big sale", CampaignStatus.SENDING)
    load_emails(big, BIG)
    for number in range(COMPLETED_CAMPAIGNS):
        load_emails(campaign(f"Newsletter {number + 1}", CampaignStatus.COMPLETED), COMPLETED)
    db.session.commit()
    vacuum_analyze(db.engine)
    return big.id


@contextmanager
def gunicorn(env: dict[str, str], port: int, folder: Path) -> Iterator[str]:
    """The app under gunicorn on loopback until the block ends."""
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-w",
            str(WEB_WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "run:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/login", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(
                        f"gunicorn did not start: {(folder / 'gunicorn.log').read_text()}"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def session_cookie(app) -> str:
    """A logged-in session cookie, made by logging in through the app itself (same SECRET_KEY)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "identifier": USERNAME, "password": PASSWORD})
    cookie = client.get_cookie("session")
    if cookie is None:
        raise RuntimeError("logging in gave no session cookie")
    return f"session={cookie.value}"


def solo_ms(url: str, cookie: str, requests: int) -> float:
    """Median milliseconds of `requests` requests one after another, after as many untimed ones (so
    every gunicorn worker has compiled the page's templates and statements); each must be a 200."""
    timings = []
    for _ in range(2 * requests):
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            if response.status != 200 or response.url != url:
                raise RuntimeError(f"{url} answered {response.status} at {response.url}")
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings[requests:])


def wrk(url: str, cookie: str, script: Path, connections: int, duration: int) -> dict[str, float]:
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(connections, 4)}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            f"{WRK_TIMEOUT}s",
            "-s",
            str(script),
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = dict(pair.split("=") for pair in WRK_RESULT.search(output).group(1).split())
    return {key: float(value) for key, value in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--duration", type=int, default=DURATION, help="seconds of wrk per page")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    with bench_app("bench_web", {}) as bench, tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        print(bench.describe())
        start = time.perf_counter()
        big = seed_million()
        loaded = time.perf_counter() - start
        print(f"1,000,000 emails of one user loaded, with VACUUM ANALYZE, in {loaded:.1f} s")
        cookie = session_cookie(bench.app)
        db.engine.dispose()
        folder = Path(scratch)
        script = folder / "report.lua"
        script.write_text(WRK_SCRIPT)
        env = bench.process_env()
        pages = {
            "dashboard": "/",
            "stats": "/dashboard/stats",
            "report": f"/campaigns/{big}/report",
            "report_last": f"/campaigns/{big}/report?before=0",
            "report_failed": f"/campaigns/{big}/report?status=failed&before=0",
            "report_search": f"/campaigns/{big}/report?q=r499999%40",
            "campaign_stats": f"/campaigns/{big}/stats",
        }
        print(f"gunicorn -w {WEB_WORKERS}; wrk: {args.connections} connections, {args.duration} s per page")
        lines, worst = [], 0.0
        with gunicorn(env, free_port(), folder) as url:
            for page, path in pages.items():
                alone = solo_ms(url + path, cookie, SOLO_REQUESTS)
                figures = wrk(url + path, cookie, script, args.connections, args.duration)
                if figures["errors"]:
                    raise RuntimeError(f"{page}: {figures['errors']:.0f} errors under load")
                worst = max(worst, figures["p95_ms"])
                print(
                    f"{page:>14}: alone {alone:7.2f} ms (median of {SOLO_REQUESTS}); under load "
                    f"{figures['rps']:7.1f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                    f"p95 {figures['p95_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
                )
                lines.append(
                    result_line(
                        page=page,
                        rps=figures["rps"],
                        p50_ms=figures["p50_ms"],
                        p95_ms=figures["p95_ms"],
                        p99_ms=figures["p99_ms"],
                    )
                )
    print("\n".join(lines))
    print(result_line(p95_ms_max=worst))


if __name__ == "__main__":
    run(main)
