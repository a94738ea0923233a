"""Several hosts sharing one PostgreSQL and nothing else: two gunicorn servers with data folders of
their own, a build from a third process, sessions and the sign-in throttle across both; and what
a host checks before it starts (the session key, the schema's revision), migrations run once,
explicitly, and one build at a time per database."""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import case_text, postgres_database
from sqlalchemy import create_engine, text
from test_web_server import PASSWORD, Browser, get, serve, stop

from kb import storage
from kb.errors import KbError
from kb.settings import Settings

REPO = Path(__file__).resolve().parents[1]
KEY = "a shared key of the team, 32 chars"


@pytest.fixture
def team(kb_root, tmp_path):
    """A root, a PostgreSQL database, and a settings maker for a host with its own data folder."""
    root = kb_root({"boston.md": case_text("boston", title='"Ceasefire in Boston"'),
                    "oslo.md": case_text("oslo", title='"Heroin prescription in Oslo"')})
    with postgres_database() as url:
        def host(name: str, **given) -> Settings:
            return Settings.load({"ROOT": str(root), "DATA_DIR": str(tmp_path / name), "DATABASE_URL": url,
                                  "RENDER_PAGES": "first-view", **given})
        yield root, url, host


def _kb(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("kb")), *args], env=env, capture_output=True,
                          text=True, timeout=120, cwd=REPO)


def _env(root: Path, url: str, data: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    return {**env, "KB_ROOT": str(root), "KB_DATABASE_URL": url, "KB_DATA_DIR": str(data),
            "KB_RENDER_PAGES": "first-view", **extra}


def test_two_hosts_serve_one_build_share_sessions_and_one_throttle(team, tmp_path):
    """Two gunicorn servers, each with its own data folder, on one PostgreSQL: a build from a
    third process is served by both without a restart; a session made on one works on the other;
    guesses spread over both stay within the limit."""
    root, url, _ = team
    builder = _env(root, url, tmp_path / "builder", KB_SECRET_KEY=KEY)
    done = _kb("build", env=builder)
    assert done.returncode == 0, done.stderr
    from kb.reviews import accounts
    from kb.reviews.roles import system_actor
    engine = storage.make_engine(url)
    accounts.add_user(engine, system_actor(), "alice", "reviewer", PASSWORD)
    engine.dispose()
    hosts = []
    for n in (1, 2):
        (tmp_path / f"host{n}").mkdir()
        hosts.append(serve(root, tmp_path / f"host{n}", "--workers", "2",
                           env=_env(root, url, tmp_path / f"host{n}" / "data", KB_SECRET_KEY=KEY)))
    try:
        (one, a), (two, b) = hosts
        for base in (a, b):   # warm every worker on the first build
            for _ in range(4):
                assert "Ceasefire in Boston" in get(base + "/search?q=ceasefire")[1]
        assert not (tmp_path / "host1" / "data" / "index").exists()   # the index is in the database

        path = root / "case_studies" / "boston.md"
        path.write_text(path.read_text(encoding="utf-8").replace("Ceasefire in Boston", "Ceasefire revisited"),
                        encoding="utf-8")
        done = _kb("build", env=builder)
        assert done.returncode == 0, done.stderr
        for base in (a, b):
            for _ in range(4):
                status, body = get(base + "/search?q=ceasefire")
                assert status == 200 and "Ceasefire revisited" in body and "Ceasefire in Boston" not in body

        browser = Browser(a)   # signed in on host 1...
        assert browser.post("/signin", name="alice", password=PASSWORD) == 302
        browser.base = b       # ...and the same cookie on host 2
        with browser.opener.open(b + "/reviews", timeout=10) as response:
            assert response.status == 200 and "alice" in response.read().decode()

        guessers = [Browser(base) for base in (a, b, a, b)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda n: guessers[n % 4].post("/signin", name="alice", password=f"guess {n}!!"),
                                     range(24)))
        assert statuses.count(401) == 5 and statuses.count(429) == 19, statuses   # 5 per account and address
    finally:
        outputs = [stop(process) for process, _ in hosts]
    assert not any("Traceback" in output for output in outputs), outputs


def test_a_host_without_the_shared_key_refuses_to_start(team, tmp_path):
    from webapp import create_app
    root, url, host = team
    from kb.storage.build import build
    build(host("builder"))
    with pytest.raises(KbError, match=r"cannot start: the database is PostgreSQL, so this may be one of several "
                                      r"hosts.*set KB_SECRET_KEY, or KB_SECRET_KEY_FILE"):
        create_app(host("web"))
    secret = tmp_path / "secret"
    secret.write_text(KEY + "\n", encoding="utf-8")
    app = create_app(host("web", SECRET_KEY_FILE=str(secret)))
    assert app.config["SECRET_KEY"] == KEY
    secret.write_text("short", encoding="utf-8")
    with pytest.raises(KbError, match=r"KB_SECRET_KEY_FILE=.* has 5 characters; use at least 16"):
        create_app(host("web", SECRET_KEY_FILE=str(secret)))
    with pytest.raises(KbError, match=r"KB_SECRET_KEY_FILE=.*missing.* cannot be read \(No such file"):
        create_app(host("web", SECRET_KEY_FILE=str(tmp_path / "missing")))


def test_a_host_behind_or_ahead_of_the_schema_refuses_to_start(team):
    from webapp import create_app
    root, url, host = team
    from kb.storage.build import build
    build(host("builder"))
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
        with pytest.raises(KbError, match=r"cannot start: .*schema revision f00dfeed, which this version of kb does "
                                          r"not know: it was upgraded by a newer kb"):
            create_app(host("web", SECRET_KEY=KEY))
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": storage.head_revision()})
        assert create_app(host("web", SECRET_KEY=KEY)) is not None
    finally:
        engine.dispose()


def test_migrations_run_once_explicitly_on_postgres(team, tmp_path):
    """A build does not move a shared schema: it says to run `kb db upgrade`, which does."""
    from alembic import command
    root, url, host = team
    from kb.storage.build import build
    build(host("builder"))
    engine = storage.make_engine(url)
    config = storage._alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    engine.dispose()
    with pytest.raises(KbError, match=r"schema revision 0010, and this version of kb needs .*; run `kb db upgrade`$"):
        build(host("builder"))
    env = _env(root, url, tmp_path / "builder")
    upgraded = [_kb("db", "upgrade", env=env) for _ in range(2)]   # a second run finds nothing to do
    assert [r.returncode for r in upgraded] == [0, 0], [r.stderr for r in upgraded]
    assert build(host("builder")).cases == 2


def test_one_build_at_a_time_per_database(team):
    root, url, host = team
    from kb.storage.build import build
    build(host("builder"))
    engine = create_engine(url)
    with engine.connect() as holder:
        holder.execute(text(f"SELECT pg_advisory_lock({storage.BUILD_LOCK})"))
        with pytest.raises(KbError, match=r"another `kb build` is writing to this database"):
            build(host("other"), full=True)   # another host's data folder: its file lock is no help
        holder.execute(text(f"SELECT pg_advisory_unlock({storage.BUILD_LOCK})"))
        holder.commit()
    engine.dispose()
    assert build(host("other"), full=True).cases == 2
