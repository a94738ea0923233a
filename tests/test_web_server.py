"""The production way of serving: gunicorn with several workers, on loopback, started for real."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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
    from kb.build import build
    for _ in range(6):                              # warm every worker on the old build
        assert "Ceasefire in Boston" in get(gunicorn + "/search?q=ceasefire")[1]
    path = built_root / "case_studies" / "deterrence" / "second-case.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Ceasefire in Boston", "Ceasefire revisited"), encoding="utf-8")
    os.environ.pop("KB_DATABASE_URL", None)
    build(built_root)
    for _ in range(9):
        assert "Ceasefire revisited" in get(gunicorn + "/search?q=ceasefire")[1]
