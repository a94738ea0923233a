"""The production way of serving: gunicorn with several workers, on loopback, started for real."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(built_root, tmp_path):
    port = free_port()
    env = {**os.environ, "KB_ROOT": str(built_root), "KB_SECRET_KEY": "test", "KB_BASE_URL": f"http://127.0.0.1:{port}"}
    env.pop("KB_DATABASE_URL", None)
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn_bin), "--workers", "3", "--bind", f"127.0.0.1:{port}",
                                "--chdir", str(tmp_path), "webapp:create_app()"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[1])
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + "/api/themes", timeout=2):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail(process.stdout.read().decode())
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)
    process.stdout.close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_gunicorn_serves_pages_and_api(gunicorn):
    assert get(gunicorn + "/")[0] == 200
    status, body = get(gunicorn + "/search?q=ceasefire")
    assert status == 200 and "Ceasefire in Boston" in body
    status, body = get(gunicorn + "/cases/sample-case")
    assert status == 200 and "Doe &amp; van der Meer, 2020, p. 3" in body
    assert get(gunicorn + "/api/cases/nope")[0] == 404


def test_every_worker_picks_up_a_new_build(gunicorn, built_root):
    from kb.storage.build import build
    for _ in range(6):                              # warm every worker on the old build
        assert "Ceasefire in Boston" in get(gunicorn + "/search?q=ceasefire")[1]
    path = built_root / "case_studies" / "deterrence" / "second-case.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Ceasefire in Boston", "Ceasefire revisited"), encoding="utf-8")
    os.environ.pop("KB_DATABASE_URL", None)
    build(built_root)
    for _ in range(9):
        assert "Ceasefire revisited" in get(gunicorn + "/search?q=ceasefire")[1]


# --- attacks on the real server: several workers, threads, concurrent requests --------------------

import http.cookiejar  # noqa: E402
import re  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

PASSWORD = "correct horse battery"


def serve(built_root, tmp_path, *args: str, env: dict | None = None):
    """gunicorn on a free loopback port with `args`, its working folder `tmp_path`; the database is
    SQLite in the root unless `env` names another (KB_DATABASE_URL)."""
    port = free_port()
    environment = {**os.environ, "KB_ROOT": str(built_root), "KB_SECRET_KEY": "test",
                   "KB_BASE_URL": f"http://127.0.0.1:{port}"}
    environment.pop("KB_DATABASE_URL", None)
    environment.update(env or {})
    process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), *args, "--bind", f"127.0.0.1:{port}",
                                "--chdir", str(tmp_path), "webapp:create_app()"],
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               cwd=Path(__file__).parents[1])
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            with urllib.request.urlopen(base + "/api/themes", timeout=2):
                return process, base
        except OSError:
            if process.poll() is not None:
                pytest.fail(process.stdout.read().decode())
            time.sleep(0.1)
    pytest.fail("gunicorn did not start")


def stop(process) -> str:
    process.terminate()
    process.wait(timeout=15)
    output = process.stdout.read().decode()
    process.stdout.close()
    return output


class Browser:
    """A cookie jar and the CSRF token of its session, as a browser would hold them."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())
        self.refresh("/signin")

    def refresh(self, path: str) -> None:
        """A page's form token: signing in starts a new session, with a new token."""
        page = self.opener.open(self.base + path, timeout=10).read().decode()
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def post(self, path: str, **form) -> int:
        data = urllib.parse.urlencode({"csrf_token": self.token, **form}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            error.close()
            return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def accounts_made(built_root):
    from kb import storage
    from kb.reviews import accounts
    from kb.reviews.roles import system_actor
    from kb.settings import Settings
    os.environ.pop("KB_DATABASE_URL", None)
    engine = storage.open_database(Settings.for_root(built_root))
    for name in ("alice", "bob"):
        accounts.add_user(engine, system_actor(), name, "reviewer", PASSWORD)
    engine.dispose()


@pytest.mark.parametrize("workers", [["--workers", "4"], ["--workers", "2", "--threads", "4", "--worker-class", "gthread"]],
                         ids=["4 sync workers", "2 workers x 4 threads"])
def test_concurrent_guesses_get_no_more_than_the_limit_through(built_root, tmp_path, accounts_made, workers):
    """60 guesses at once from one address (4 workers let 20 of 60 through; threads 37 of 40):
    at most 5 are checked, the rest refused with 429; another account still signs in."""
    process, base = serve(built_root, tmp_path, *workers)
    try:
        browsers = [Browser(base) for _ in range(6)]
        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = list(pool.map(lambda n: browsers[n % 6].post("/signin", name="alice", password=f"guess {n}!!"),
                                     range(60)))
        assert statuses.count(401) == 5 and statuses.count(429) == 55, statuses
        assert browsers[0].post("/signin", name="alice", password=PASSWORD) == 429      # locked here for now
        assert browsers[1].post("/signin", name="bob", password=PASSWORD) == 302        # bob is not
    finally:
        output = stop(process)
    assert "Traceback" not in output, output


def test_sign_out_on_one_worker_ends_the_session_on_all(built_root, tmp_path, accounts_made):
    process, base = serve(built_root, tmp_path, "--workers", "3")
    try:
        browser = Browser(base)
        assert browser.post("/signin", name="alice", password=PASSWORD) == 302
        cookie = next(c for c in browser.opener.handlers if isinstance(c, urllib.request.HTTPCookieProcessor)).cookiejar
        session = next(c.value for c in cookie if c.name == "session")

        def as_thief() -> int:
            request = urllib.request.Request(base + "/reviews", headers={"Cookie": f"session={session}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                error.close()
                return error.code
        assert {as_thief() for _ in range(9)} == {200}                 # every worker honours it
        browser.refresh("/reviews")
        assert browser.post("/signout") == 302
        assert {as_thief() for _ in range(9)} == {401}                 # and every worker ends it
    finally:
        stop(process)
