"""Reviewer load test: 20 reviewers saving reviews at once through the production server.

    .venv/bin/python benchmarks/bench_reviews.py [--seconds 60] [--reviewers 20] [--backend sqlite|postgresql|both]

Builds a small generated collection, creates the reviewer accounts, starts gunicorn on 127.0.0.1,
then from a separate process each reviewer signs in (with the CSRF token of the sign-in form) and
loops for a fixed time: open an item's review page, save a review with a unique note and two
ROBINS-I answers (the built-in question set is installed, so every form carries it). Afterwards
every save the server acknowledged (302) must be in the database as that reviewer's current note
or an earlier version in the audit log. Reports throughput, median and p95 of saves, and errors.
Only loopback is targeted; every loop stops by itself.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
PASSWORD = "load-test-password-1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
JUDGEMENTS = ("low", "moderate", "serious", "critical", "no-information")


class Client:
    """One reviewer's browser: a keep-alive connection and a session cookie."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, text


def run_load(port: int, reviewers: list[str], targets: list[str], seconds: float) -> dict:
    acknowledged: list[tuple[str, str, str]] = []
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def reviewer(name: str, seed: int) -> None:
        rng = random.Random(seed)
        client = Client(port)
        status, page = client.request("GET", "/signin")
        status, _ = client.request("POST", "/signin", {"csrf_token": TOKEN.search(page).group(1), "name": name,
                                                       "password": PASSWORD})
        if status != 302:
            with lock:
                errors.append(f"sign-in of {name}: {status}")
            return
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            target = rng.choice(targets)
            status, page = client.request("GET", f"/reviews/item/{target}")
            if status != 200:
                with lock:
                    errors.append(f"GET {target}: {status}")
                continue
            n += 1
            note = f"{name}-{n}-{rng.random():.8f}"
            form = {"csrf_token": TOKEN.search(page).group(1), "sms_grade": str(rng.randint(1, 5)),
                    "confidence": "moderate", "relevance": "high", "status": "reviewed", "note": note,
                    # the ROBINS-I questions are on the form: answer two of them, as a reviewer would
                    "asked": ["robins-d1", "robins-overall"], "q-robins-d1": rng.choice(JUDGEMENTS),
                    "q-robins-overall": rng.choice(JUDGEMENTS)}
            version = VERSION.search(page.split('id="mine-h"', 1)[1].split("</form>", 1)[0])
            if version:
                form["version"] = version.group(1)
            started = time.perf_counter()
            status, _ = client.request("POST", f"/reviews/item/{target}", form)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if status == 302:
                    acknowledged.append((name, target, note))
                else:
                    errors.append(f"POST {target}: {status}")

    threads = [threading.Thread(target=reviewer, args=(name, n)) for n, name in enumerate(reviewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {"saves": len(latencies), "acknowledged": acknowledged, "errors": errors,
            "median": statistics.median(latencies) if latencies else 0,
            "p95": latencies[int(len(latencies) * 0.95) - 1] if latencies else 0, "seconds": seconds}


def verify(engine, acknowledged) -> list[str]:
    """Every acknowledged save is the reviewer's current note or a recorded version in the audit log."""
    from kb.reviews import audit
    from kb.reviews.records import parse_target
    from kb.reviews.service import reviews_of
    logged = {(e.actor, e.target, (e.after or {}).get("note")) for e in audit.entries(engine)
              if e.action in ("review.create", "review.update")}
    missing = []
    last: dict[tuple[str, str], str] = {}
    for name, target, note in acknowledged:
        last[(name, target)] = note
        if (name, str(parse_target(target)), note) not in logged:
            missing.append(f"audit log lacks {name} {target} {note}")
    for (name, target), note in last.items():
        current = {r.reviewer: r.note for r in reviews_of(engine, parse_target(target))}
        if current.get(name) != note:
            missing.append(f"{name}'s review of {target} is {current.get(name)!r}, acknowledged {note!r}")
    return missing


def one_backend(backend: str, args, root: Path) -> dict:
    from bench_web import free_port, start_server

    from kb.knowledgebase import KnowledgeBase
    from kb.reviews import accounts
    from kb.reviews.roles import system_actor
    from kb.storage.build import build
    pg_dir = None
    if backend == "postgresql":
        pg_dir = tempfile.mkdtemp(prefix="kb-bench-pg-")
        url = subprocess.run([str(HERE.parent / "scripts" / "pg-throwaway"), "start", pg_dir, str(free_port())],
                             check=True, capture_output=True, text=True).stdout.strip()
        os.environ["KB_DATABASE_URL"] = url
    else:
        os.environ.pop("KB_DATABASE_URL", None)
    try:
        build(root, full=True)
        kb = KnowledgeBase(root)
        names = [f"reviewer{n:02d}" for n in range(args.reviewers)]
        existing = {u.name for u in accounts.list_users(kb.engine)}
        for name in names:
            if name not in existing:
                accounts.add_user(kb.engine, system_actor(), name, "reviewer", PASSWORD)
        from kb.reviews.questions import install_set
        install_set(kb.engine, system_actor(), "robins-i")      # the form then carries eight coding questions
        with kb.engine.connect() as conn:
            from sqlalchemy import select

            from kb import storage
            targets = [f"{c}/{e}" for c, e in conn.execute(select(storage.evidence_items.c.case_id, storage.evidence_items.c.id))]
        port = free_port()
        server = start_server(root, port, args.workers)
        try:
            spec = json.dumps([port, names, targets, args.seconds])
            out = subprocess.run([sys.executable, __file__, "--child"], input=spec, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout)
        finally:
            server.terminate()
            server.wait(timeout=30)
        result["missing"] = verify(kb.engine, [tuple(a) for a in result["acknowledged"]])
        kb.close()
        return result
    finally:
        if pg_dir:
            subprocess.run([str(HERE.parent / "scripts" / "pg-throwaway"), "stop", pg_dir], check=False)
            os.environ.pop("KB_DATABASE_URL", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        port, names, targets, seconds = json.loads(sys.stdin.read())
        print(json.dumps(run_load(port, names, targets, seconds)))
        return
    from bench_core import generate
    with tempfile.TemporaryDirectory(prefix="kb-bench-reviews-") as work:
        root = Path(work) / "root"
        generate(root, args.cases)
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        rows = [(backend, one_backend(backend, args, root)) for backend in backends]
    print(f"\n{args.reviewers} reviewers saving for {args.seconds:.0f} s; gunicorn, {args.workers} workers\n")
    print("| database | saves | saves/s | median | p95 | errors | acknowledged saves missing |\n|---|---|---|---|---|---|---|")
    failed = False
    for backend, r in rows:
        print(f"| {backend} | {r['saves']} | {r['saves'] / r['seconds']:.1f} | {r['median']:.0f} ms | {r['p95']:.0f} ms | "
              f"{len(r['errors'])} | {len(r['missing'])} |")
        for line in (r["errors"][:5] + r["missing"][:5]):
            print(f"  {backend}: {line}", file=sys.stderr)
        failed = failed or bool(r["missing"])
    if failed:
        raise SystemExit("acknowledged saves are missing from the database or the audit log")


if __name__ == "__main__":
    main()
