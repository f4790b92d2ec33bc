"""Throttling that holds: one budget per account however it is typed, the real client address behind
a trusted proxy, exact under concurrency and across web processes, a log-in as slow for an unknown
user as for a real one, a sign-up that does not say which account exists, and no common passwords."""

from __future__ import annotations

import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import app.auth.passwords
import app.models
from app.auth.forms import ALREADY_REGISTERED
from app.throttle import throttle
from tests.conftest import AuthActions, post_form
from tests.processes import ROOT, wait_until
from tests.services import free_port, redis_url

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")

BUDGET = 5  # LOGIN_RATE_LIMIT's default: 5 per minute
CONCURRENT = 16
SIGNUP = {"email": "new@example.com", "password": "s3cret-pass-2", "password2": "s3cret-pass-2"}


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """Every password hash checked, for a real user or the stand-in."""
    checked: list[str] = []
    for module in (app.models, app.auth.passwords):
        real = module.check_password_hash

        def spy(pwhash: str, password: str, real=real) -> bool:
            checked.append(password)
            return real(pwhash, password)

        monkeypatch.setattr(module, "check_password_hash", spy)
    return checked


def test_username_and_email_share_one_budget(client, auth, make_user):
    make_user("asha")
    for identifier in ["asha", "asha@example.com", "ASHA@EXAMPLE.COM", "Asha", "asha@example.com"]:
        assert auth.login(identifier, "wrong").status_code == 200
    assert auth.login("asha@example.com").status_code == 429
    assert auth.login("asha").status_code == 429


@pytest.fixture(params=["database", "redis"])
def storage(request, app) -> Iterator[str]:
    """Where the counts live: the app's database (the embedded default) or Redis."""
    if request.param == "redis":
        from app.throttle import init_throttle

        app.config["RATELIMIT_STORAGE_URI"] = redis_url()
        init_throttle(app)
        throttle().storage.reset()
        yield request.param
        throttle().storage.reset()
    else:
        yield request.param


def test_concurrent_failures_get_no_more_password_checks_than_the_budget(
    app, make_user, storage, password_checks
):
    make_user("asha")
    browsers = [AuthActions(app.test_client()) for _ in range(CONCURRENT)]
    tokens = [
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', b.client.get("/login").get_data(as_text=True))[1]
        for b in browsers
    ]
    start = threading.Barrier(CONCURRENT)

    def attempt(index: int) -> int:
        start.wait()
        form = {"csrf_token": tokens[index], "identifier": "asha", "password": f"wrong-{index}"}
        return browsers[index].client.post("/login", data=form).status_code

    with ThreadPoolExecutor(CONCURRENT) as pool:
        statuses = list(pool.map(attempt, range(CONCURRENT)))
    assert sorted(statuses) == [200] * BUDGET + [429] * (CONCURRENT - BUDGET)
    assert len(password_checks) == BUDGET


PROXY = {"TRUSTED_PROXIES": "127.0.0.1"}  # the test client connects from 127.0.0.1


def from_client(address: str) -> dict[str, dict[str, str]]:
    """What the trusted proxy adds to a request from `address`."""
    return {"headers": {"X-Forwarded-For": address}}


def fail_from(auth: AuthActions, times: int, **kwargs) -> int:
    """`times` failed log-ins under different unknown names (so only the address budget counts)."""
    statuses = [auth.login(f"nobody{n}", "wrong", **kwargs).status_code for n in range(times)]
    return statuses[-1]


@pytest.mark.parametrize("app_settings", [PROXY])
def test_failures_from_one_client_behind_the_proxy_do_not_lock_out_another(
    client, auth, make_user, app_settings
):
    make_user("asha")
    assert fail_from(auth, 21, **from_client("203.0.113.7")) == 429
    assert auth.login("asha", **from_client("198.51.100.2")).status_code == 302


@pytest.mark.parametrize("app_settings", [PROXY])
def test_a_client_cannot_choose_its_address_through_the_proxy(client, auth, make_user, app_settings):
    """The proxy appends the address it saw; whatever the client wrote before it is not believed."""
    make_user("asha")
    assert fail_from(auth, 21, **from_client("198.51.100.2, 203.0.113.7")) == 429
    assert auth.login("asha", **from_client("10.9.9.9, 203.0.113.7")).status_code == 429
    assert auth.login("asha", **from_client("198.51.100.2")).status_code == 302


def test_without_a_trusted_proxy_no_forwarded_header_is_believed(client, auth, make_user):
    make_user("asha")
    for n in range(20):
        auth.login(f"nobody{n}", "wrong", **from_client(f"203.0.113.{n}"))
    assert auth.login("asha", **from_client("198.51.100.2")).status_code == 429


@pytest.mark.own_app
@pytest.mark.parametrize("app_settings", [PROXY])
def test_the_scheme_the_proxy_saw_is_the_requests(app, app_settings):
    seen = {}

    @app.get("/scheme")
    def scheme():
        from flask import request

        seen.update(secure=request.is_secure, address=request.remote_addr)
        return ""

    app.test_client().get(
        "/scheme", headers={"X-Forwarded-For": "198.51.100.2", "X-Forwarded-Proto": "https"}
    )
    assert seen == {"secure": True, "address": "198.51.100.2"}


def test_an_unknown_user_costs_one_password_check_like_a_real_one(auth, make_user, password_checks):
    make_user("asha")
    auth.login("asha", "wrong")
    assert len(password_checks) == 1
    auth.login("nobody-at-all", "wrong")
    assert len(password_checks) == 2


@pytest.mark.parametrize("app_settings", [{"PASSWORD_HASH_METHOD": "pbkdf2:sha256:200000"}])
def test_a_log_in_takes_as_long_whether_or_not_the_user_exists(auth, make_user, app_settings):
    make_user("asha")
    auth.login("nobody-at-all", "wrong")  # the stand-in hash is made once per process

    def seconds(identifier: str) -> float:
        """The CPU time a log-in costs (the request runs in this thread): what the hash check costs, the
        same however busy the machine is with other work."""
        timings = []
        for _ in range(3):
            start = time.thread_time()
            auth.login(identifier, "wrong")
            timings.append(time.thread_time() - start)
        return statistics.median(timings)

    known, unknown = seconds("asha"), seconds("nobody-at-all")
    assert unknown > 0.5 * known, f"known user {known * 1000:.0f} ms, unknown {unknown * 1000:.0f} ms"


def signup_error(client, **fields: str) -> str:
    page = post_form(client, "/signup", {**SIGNUP, "timezone": "Asia/Kolkata", **fields}).get_data(
        as_text=True
    )
    return " ".join(
        re.findall(r'<div class="(?:alert alert-danger|invalid-feedback)"[^>]*>([^<]*)</div>', page)
    )


def test_sign_up_does_not_say_whether_the_username_or_the_email_exists(client, make_user):
    make_user("asha", email="asha@example.com")
    taken_username = signup_error(client, username="asha", email="someone-new@example.com")
    taken_email = signup_error(client, username="someone-new", email="asha@example.com")
    assert taken_username == taken_email == ALREADY_REGISTERED


@pytest.mark.parametrize("app_settings", [{"SIGNUP_RATE_LIMIT_PER_IP": "3 per hour"}])
def test_sign_ups_are_throttled_per_client_address(client, app_settings):
    for n in range(3):
        assert post_form(client, "/signup", {**SIGNUP, "username": "x", "email": f"x{n}"}).status_code == 200
    assert (
        post_form(client, "/signup", {**SIGNUP, "username": "new", "email": "new@example.com"}).status_code
        == 429
    )


@pytest.mark.parametrize(
    "password", ["password", "12345678", "1234567890", "password123", "qwertyuiop", "asha123456"]
)
def test_common_passwords_are_refused(client, password):
    error = signup_error(
        client, username="asha", email="asha@example.com", password=password, password2=password
    )
    assert "Use at least 10 characters." in error or "This password is too easy to guess." in error


@pytest.fixture
def gunicorn(app, tmp_path, database_url) -> Iterator[str]:
    """The app served as the Procfile does (several gunicorn workers, the embedded defaults)."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "filesystem://",
        "REDIS_URL": "",
        "RATELIMIT_STORAGE_URI": "",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SMTP_ENCRYPTION_KEY": app.config["SMTP_ENCRYPTION_KEY"],
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "3", "-b", f"127.0.0.1:{port}", "run:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return urllib.request.urlopen(f"{url}/login", timeout=5).status == 200
        except OSError:
            return False

    try:
        wait_until(answers, 60, "gunicorn to answer")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.processes
def test_web_processes_share_one_budget(gunicorn, make_user):
    """16 simultaneous wrong passwords, spread over gunicorn's workers: 5 are checked, 11 refused."""
    make_user("asha")
    start = threading.Barrier(CONCURRENT)

    def attempt(_: int) -> int:
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = browser.open(f"{gunicorn}/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
        form = urllib.parse.urlencode(
            {"csrf_token": token, "identifier": "asha", "password": "wrong"}
        ).encode()
        start.wait()
        try:
            return browser.open(f"{gunicorn}/login", data=form, timeout=60).status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(CONCURRENT) as pool:
        statuses = list(pool.map(attempt, range(CONCURRENT)))
    assert sorted(statuses) == [200] * BUDGET + [429] * (CONCURRENT - BUDGET)
