"""Sign-in guessing is limited exactly: per client address and per account (the e-mail tried,
lower-cased), so rotating addresses or forging X-Forwarded-For does not buy more guesses;
`coop serve` runs one process when counts live in memory and refuses several, and with Redis
two gunicorn workers together let exactly the limit through."""

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import redis
from smtp_server import free_port

from coop import create_app
from coop.cli import serve_plan

REDIS_URL = os.environ.get("COOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIMIT = 5


@pytest.fixture
def limited(app):
    """The same app with the limits on: 3 sign-in attempts a minute."""
    return create_app({**app.config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3/minute"})


def _attempt(web, email, address, **headers):
    return web.post(
        "/login",
        data={"email": email, "password": "not the password"},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    ).status_code


def test_one_account_is_limited_across_addresses(limited, make_member):
    member = make_member()
    web = limited.test_client()
    # The case of the e-mail does not make a new account to guess at.
    emails = [member.email, member.email.upper(), f" {member.email} ", member.email]
    statuses = [_attempt(web, e, f"198.51.100.{i}") for i, e in enumerate(emails)]
    assert statuses == [400, 400, 400, 429]
    # Another account from a fresh address is not held up by it.
    assert _attempt(web, "someone.else@example.org", "198.51.100.99") == 400


def test_forged_forwarded_for_headers_do_not_reset_the_address_limit(limited):
    web = limited.test_client()
    statuses = [
        _attempt(web, f"user{i}@example.org", "203.0.113.7", **{"X-Forwarded-For": f"10.0.0.{i}"})
        for i in range(4)
    ]
    assert statuses == [400, 400, 400, 429]


def test_forgot_password_is_limited_per_account(limited, make_member):
    member = make_member()
    web = limited.test_client()
    statuses = [
        web.post("/forgot", data={"email": member.email},
                 environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code
        for i in range(4)
    ]
    assert statuses == [302, 302, 302, 429]


def test_serve_refuses_several_workers_with_in_memory_limits(runner):
    result = runner.invoke(args=["serve", "--workers", "3"])
    assert result.exit_code == 2
    assert "COOP_RATELIMIT_STORAGE_URI=redis://" in result.output


def test_serve_plans_one_process_for_memory_and_several_for_redis():
    assert serve_plan("memory://", None) == 1
    assert serve_plan("memory://", 1) == 1
    assert serve_plan("redis://127.0.0.1:6379", None) == 2
    assert serve_plan("redis://127.0.0.1:6379", 4) == 4


# --- a real server -------------------------------------------------------------------------


def _coop(env, *args, **kwargs):
    coop = str(Path(sys.executable).parent / "coop")
    return subprocess.run([coop, *args], env=env, capture_output=True, text=True, **kwargs)


@pytest.fixture
def served(tmp_path):
    """Start `coop serve` with the given options and environment; stop it afterwards."""
    processes = []

    def serve(*options, **environment):
        env = dict(
            os.environ,
            COOP_INSTANCE_DIR=str(tmp_path / "instance"),
            COOP_NTP_SERVERS="",
            COOP_SECURE_COOKIES="0",  # plain http on loopback
            COOP_LOGIN_RATE_LIMIT=f"{LIMIT} per minute",
            **environment,
        )
        env.pop("COOP_DATABASE_URL", None)
        assert _coop(env, "init").returncode == 0
        created = _coop(env, "user", "create", "--email", "ines@example.org", "--name", "Ines",
                        "--role", "member", input="a long and quiet river\n" * 2)
        assert created.returncode == 0, created.stderr
        port = free_port()
        log = open(tmp_path / "serve.log", "w+")  # closed when the fixture stops the server
        coop = str(Path(sys.executable).parent / "coop")
        process = subprocess.Popen([coop, "serve", "--port", str(port), *options],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log))
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/login", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        else:
            log.seek(0)
            pytest.fail("coop serve did not start: " + log.read()[-2000:])
        log.seek(0)
        return base, log.read()

    yield serve
    for process, log in processes:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _fire(base: str, attempts: int) -> list[int]:
    """Wrong-password sign-ins, each on a new connection, with a real session and CSRF token."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "email": "ines@example.org", "password": "a wrong guess"}
    ).encode()
    statuses = []
    for _ in range(attempts):
        try:
            statuses.append(opener.open(base + "/login", data=body).status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
            error.close()
    return statuses


def test_the_default_server_enforces_the_limit_exactly(served):
    base, output = served()
    assert "1 process(es)" in output and "in this one process" in output
    statuses = _fire(base, LIMIT * 3)
    assert statuses.count(400) == LIMIT and statuses.count(429) == LIMIT * 2


def test_two_workers_share_the_limit_through_redis(served):
    prefix = f"coop-test-{uuid.uuid4().hex[:12]}"
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is unreachable at {REDIS_URL} (set COOP_TEST_REDIS_URL)")
    try:
        base, output = served("--workers", "2", COOP_RATELIMIT_STORAGE_URI=REDIS_URL,
                              COOP_RATELIMIT_KEY_PREFIX=prefix)
        assert "2 process(es)" in output and "shared through redis" in output
        statuses = _fire(base, LIMIT * 3)
        assert statuses.count(400) == LIMIT and statuses.count(429) == LIMIT * 2
        assert store.keys(f"*{prefix}*")  # the counts were kept in Redis, under our prefix
    finally:
        keys = store.keys(f"*{prefix}*")
        if keys:
            store.delete(*keys)
        store.close()


def test_posting_tasks_is_limited_per_account(app, make_client_user):
    """A refused post keeps its files: the limit bounds what one account stores that way."""
    limited = create_app({**app.config, "RATELIMIT_ENABLED": True, "UPLOAD_RATE_LIMIT": "2/hour"})
    limited.test_client_class = app.test_client_class
    client = make_client_user()
    web = limited.test_client(user=client)
    codes = [web.post("/tasks/new", data={"title": ""}).status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
    # Another account has its own count.
    other = limited.test_client(user=make_client_user())
    assert other.post("/tasks/new", data={"title": ""}).status_code != 429
    assert web.get("/tasks/new").status_code == 200  # reading the form is not limited
