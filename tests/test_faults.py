"""Faults: a build killed with SIGKILL while its index writers run, a full disk, a database that
goes away. Each ends in one clear message, exit 1, no partial output left behind (now or after
the next build), and nothing a later build trips over."""
from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import case_text

KB = str(Path(sys.executable).with_name("kb"))
WORDS = "police market harm violence drug cannabis health overdose corruption money laundering border".split()


def many_cases(root: Path, n: int) -> None:
    random.seed(n)
    for i in range(n):
        body = "## Context\n\n" + " ".join(f"{random.choice(WORDS)}{random.randint(0, 3000)}" for _ in range(300))
        (root / "case_studies" / f"c{i}.md").write_text(case_text(f"c{i}", body=body + " [@doe2020policing].\n"),
                                                       encoding="utf-8")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def run_kb(root: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KB_DATABASE_URL"}
    return subprocess.run([KB, "--root", str(root), *args], capture_output=True, text=True, env=env, timeout=300,
                          **kwargs)


def test_a_killed_build_leaves_no_writer_and_no_lock(kb_root):
    root = kb_root({"first.md": case_text("first")})
    assert run_kb(root, "build").returncode == 0
    many_cases(root, 600)
    env = {k: v for k, v in os.environ.items() if k != "KB_DATABASE_URL"}
    build = subprocess.Popen([KB, "--root", str(root), "build", "--full", "--procs", "2"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    writers: list[int] = []
    deadline = time.monotonic() + 120
    while not writers and time.monotonic() < deadline and build.poll() is None:
        writers = children(build.pid)
        time.sleep(0.02)
    assert writers, "the build never started its index writers"
    time.sleep(0.5)                             # the writers are busy with documents now
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=10)
    for _ in range(50):                         # the writers die with their parent, at once
        if not any(alive(pid) for pid in writers):
            break
        time.sleep(0.02)
    assert not any(alive(pid) for pid in writers), "index writers outlived the killed build"
    generations = sorted(p.name for p in (root / ".kb" / "index").iterdir())
    assert len(generations) == 2                # the current one and the killed build's partial one
    again = run_kb(root, "build")
    assert again.returncode == 0, again.stderr
    assert "601 cases" in again.stdout
    left = sorted(p.name for p in (root / ".kb" / "index").iterdir())
    assert len(left) == 2 and not set(left) - set(generations) - {left[-1]}   # the partial one is gone


def test_the_lock_names_who_holds_it(kb_root):
    root = kb_root({"first.md": case_text("first")})
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from pathlib import Path; from kb.storage.build import build_lock\n"
        "with build_lock(Path(%r)):\n    print('held', flush=True); time.sleep(30)\n") % (str(Path(__file__).parents[1]),
                                                                                       str(root / ".kb"))],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_kb(root, "build")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert f"another kb build (pid {holder.pid}, started " in result.stderr and "wait for it to finish" in result.stderr
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert run_kb(root, "build").returncode == 0          # the kernel released it with its holder


def _no_bigger_than(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # writes past the limit fail with EFBIG, like a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_is_one_message_and_nothing_left(kb_root):
    root = kb_root({"first.md": case_text("first")})
    assert run_kb(root, "build").returncode == 0
    before = sorted(p.name for p in (root / ".kb" / "index").iterdir())
    many_cases(root, 150)
    result = run_kb(root, "build", "--full", preexec_fn=_no_bigger_than(256 * 1024))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"Error: cannot write the build in {root / '.kb'}: File too large (EFBIG);")
    assert "The previous build is unchanged" in result.stderr
    assert sorted(p.name for p in (root / ".kb" / "index").iterdir()) == before     # the partial one removed
    search = run_kb(root, "search", "sample")
    assert search.returncode == 0 and "first" in search.stdout
    assert run_kb(root, "build").returncode == 0


@pytest.mark.parametrize("where", ["index", "database"])
def test_no_space_left_in_process(kb_root, monkeypatch, where):
    """ENOSPC raised inside each phase: one KbError, the previous build current, nothing partial."""
    import errno

    from kb import storage
    from kb.errors import KbError
    from kb.storage import build as build_module
    from kb.storage.build import build
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    root = kb_root({"first.md": case_text("first")})
    build(root)
    index = root / ".kb" / "index"
    before = sorted(p.name for p in index.iterdir())
    (root / "case_studies" / "second.md").write_text(case_text("second"), encoding="utf-8")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    target = "build_generation" if where == "index" else None
    if target:
        from kb.search.whoosh import WhooshBackend  # the search backend writing its generation
        monkeypatch.setattr(WhooshBackend, target, full)
    else:
        monkeypatch.setattr(build_module, "_write_database", full)
    with pytest.raises(KbError, match=r"No space left on device \(ENOSPC\); free some space"):
        build(root)
    assert sorted(p.name for p in index.iterdir()) == before
    engine = storage.make_engine(f"sqlite:///{root / '.kb' / 'kb.sqlite3'}")
    assert storage.get_meta(engine, "index_generation") == before[0]
    engine.dispose()
