"""Web load benchmark: the production server (gunicorn) on loopback, loaded from a separate process.

    .venv/bin/python benchmarks/bench_web.py [--cases 10000] [--keep DIR] [--clients 20] [--seconds 20]
    .venv/bin/python benchmarks/bench_web.py --postgres ADMIN_URL --hosts 2 ...   # a team's deployment

Generates (or reuses, with --keep) the synthetic collection of bench_core.py, builds it, starts
gunicorn with several workers on 127.0.0.1, then for each kind of request runs a closed loop of
N concurrent clients for a fixed time from another process and reports the median and p95
latency, throughput and errors. Case pages are drawn from all N cases and searches from 40
query-filter combinations, both with Zipf weights (a few popular, a long tail). The floor, in the same run: the same load on a static file
served by the same app (server, network stack and client, without our work).
With --postgres (an administrator's URL: a database is made and dropped) the build and its search
index go to PostgreSQL, and --hosts N starts N gunicorn servers, each with its own data folder and
its share of the workers, the clients spread over them as a proxy would.
Only loopback is ever targeted, and every loop stops by itself.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
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

QUERIES = ["police", "heroin market", '"harm reduction"', "naloxone", "violence OR corruption", "dealer*",
           "supervised injection", "gang violence", "treatment diversion", "deterrence"]
FILTERS = [{}, {"theme": "targeted-deterrence"}, {"country": "NO"}, {"outcome": "violence"}]
RESEARCH_SEARCHES = [
    {"q": "police", "country": ["GB", "US"]}, {"q": "heroin market", "country": ["NL", "NO", "CH"], "outcome": "violence"},
    {"q": "violence zzqxv"}, {"q": "police treatment qqzzx", "theme": ["targeted-deterrence", "police-harm-reduction"]},
    {"q": "gang violence", "region": "latin-america-and-the-caribbean"}, {"q": "latin america police"},
    {"q": "deterrence", "region": ["europe", "northern-america"], "design": ["rct", "time-series"]},
    {"country": ["BR", "MX", "CO"], "direction": "improved"}, {"q": "harm reduction xyzzy", "outcome": ["public-health", "drug-use"]},
    {"q": "community trust", "market_level": ["retail", "consumption"]},
]
EVIDENCE_FILTERS = [
    {"region": "latin-america-and-the-caribbean", "outcome": "violence", "design": "time-series"},
    {"region": "europe", "outcome": ["public-health", "drug-use"], "direction": "improved"},
    {"theme": "targeted-deterrence", "country": ["US", "GB"], "design": ["rct", "quasi-experimental"]},
    {"region": "northern-america", "outcome": "arrests", "design": "before-after"},
    {"country": "NL", "outcome": "public-nuisance", "direction": ["improved", "mixed"]},
]


def load(ports: list[int], paths: list[str], clients: int, seconds: float) -> dict:
    """Closed loop: each client sends the next request as soon as the last one is answered.
    Paths are drawn with Zipf weights (the first is the most popular), as real traffic is."""
    weights = [1.0 / (rank + 1) for rank in range(len(paths))]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        port = ports[seed % len(ports)]   # the clients spread over the hosts, as behind a proxy
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, failed = [], []
        while time.monotonic() < deadline:
            path = rng.choices(paths, weights)[0]
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed.append(f"{response.status} {path}")
            except (OSError, http.client.HTTPException) as exc:
                failed.append(f"{type(exc).__name__} {path}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - started) * 1000)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {"requests": len(latencies), "errors": len(errors), "error_samples": errors[:5],
            "median": statistics.median(latencies), "p95": latencies[int(len(latencies) * 0.95) - 1],
            "throughput": len(latencies) / seconds}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path, port: int, workers: int, data: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "KB_ROOT": str(root), "KB_SECRET_KEY": "bench", "KB_BASE_URL": f"http://127.0.0.1:{port}",
           **({"KB_DATA_DIR": str(data)} if data else {})}
    process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers),
                                "--bind", f"127.0.0.1:{port}", "--chdir", str(root), "--log-level", "warning",
                                "webapp:create_app()"], env=env, cwd=HERE.parent)
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/themes")
            connection.getresponse().read()
            connection.close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4, help="in all, shared among the hosts")
    parser.add_argument("--postgres", help="an administrator's URL: build into a new PostgreSQL database")
    parser.add_argument("--hosts", type=int, default=1, help="gunicorn servers, each with its own data folder")
    parser.add_argument("--warmup", type=float, default=0,
                        help="seconds of the same load, not measured, before each kind (steady state)")
    parser.add_argument("--only", nargs="+", metavar="KIND",
                        help="run only these kinds of request beside the floor, on the pages as they are (no kb render)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:                                   # the load generator, in its own process
        ports, clients, seconds, paths = json.loads(sys.stdin.read())
        print(json.dumps(load(ports, paths, clients, seconds)))
        return
    from bench_core import generate

    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-web-"))
    root = work / "root"
    if not root.exists():
        generate(root, args.cases)
    os.environ.pop("KB_DATABASE_URL", None)
    if args.only:   # the pages as they are: the build renders none (first views do)
        os.environ["KB_RENDER_PAGES"] = "first-view"
    database = None
    if args.postgres:
        import uuid

        from sqlalchemy import create_engine, text
        database = f"kbbenchweb_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        os.environ["KB_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + "/" + database
        os.environ["KB_RENDER_PAGES"] = "first-view"
    try:
        _main(args, work, root)
    finally:
        if database:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _main(args, work: Path, root: Path) -> None:
    from kb.storage.build import build
    build(root)
    ids = [p.stem for p in sorted((root / "case_studies").rglob("*.md"))]
    rng = random.Random(1)
    searches = [f"?{urlencode({'q': q, **f})}" for q in QUERIES for f in FILTERS]
    kinds = {
        "static file (floor)": ["/static/style.css"],
        "case page": [f"/cases/{case_id}" for case_id in rng.sample(ids, len(ids))],
        "search page with facets": [f"/search{s}" for s in searches],
        "/api/search": [f"/api/search{s}" for s in searches],
        # several values of one facet (OR-ed) and queries no case fully matches (the fallback)
        "search, OR-ed facets and the fallback": [f"/search?{urlencode(q, doseq=True)}" for q in RESEARCH_SEARCHES],
        "/evidence, three filters": [f"/evidence?{urlencode(f, doseq=True)}" for f in EVIDENCE_FILTERS],
    }
    results = {}

    def run(names: list[str]) -> None:
        ports = [free_port() for _ in range(args.hosts)]
        folders = [work / f"host{n}" for n in range(args.hosts)] if args.hosts > 1 else [None]
        servers = [start_server(root, port, max(1, args.workers // args.hosts), data)
                   for port, data in zip(ports, folders)]
        try:
            for name in names:
                if args.warmup:
                    spec = json.dumps([ports, args.clients, args.warmup, kinds[name]])
                    subprocess.run([sys.executable, __file__, "--child"], input=spec, capture_output=True, text=True,
                                   check=True)
                spec = json.dumps([ports, args.clients, args.seconds, kinds[name]])
                out = subprocess.run([sys.executable, __file__, "--child"], input=spec, capture_output=True, text=True, check=True)
                results[name] = json.loads(out.stdout)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=20)

    if args.only:
        run(["static file (floor)", *args.only])
        report(results, ["static file (floor)", *args.only], len(ids), args, "pages as they were")
        return
    from kb import storage
    from kb.knowledgebase import KnowledgeBase
    from kb.settings import Settings
    from kb.storage.pages import render_missing
    kb = KnowledgeBase(root)
    with kb.engine.begin() as conn:                  # start from no rendered pages
        conn.execute(storage.rendered.delete())
    kb.close()
    kinds["case page, first views (no kb render)"] = kinds["case page"]
    run(["case page, first views (no kb render)"])
    with KnowledgeBase(root).engine.begin() as conn:
        conn.execute(storage.rendered.delete())
    rendered, render_seconds = render_missing(Settings.load({"ROOT": str(root), "BASE_URL": "http://127.0.0.1"}),
                                              ("apa",), procs=2)
    print(f"kb render: {rendered} pages in {render_seconds:.0f} s", file=sys.stderr)
    run(["static file (floor)", "case page", "search page with facets", "/api/search"])
    run(["search, OR-ed facets and the fallback", "/evidence, three filters"])
    report(results, ["static file (floor)", "case page", "case page, first views (no kb render)", "search page with facets",
                     "/api/search", "search, OR-ed facets and the fallback", "/evidence, three filters"], len(ids), args,
           f"kb render of {rendered} pages took {render_seconds:.0f} s")


def report(results: dict, order: list[str], cases: int, args, note: str) -> None:
    floor = results["static file (floor)"]
    where = (f"PostgreSQL (search in the database), {args.hosts} host(s)" if args.postgres
             else "SQLite and Whoosh, one host")
    warm = f" after {args.warmup:.0f} s of the same load unmeasured" if args.warmup else ""
    print(f"\n{cases} cases; {where}; gunicorn, {args.workers} workers in all; {args.clients} concurrent clients for "
          f"{args.seconds:.0f} s each{warm}; {note}\n")
    print("| request | median | p95 | p95 / floor p95 | requests/s | errors |\n|---|---|---|---|---|---|")
    for name, r in ((n, results[n]) for n in order):
        print(f"| {name} | {r['median']:.1f} ms | {r['p95']:.1f} ms | {r['p95'] / floor['p95']:.1f}x | "
              f"{r['throughput']:.0f} | {r['errors']} |")
        if r["errors"]:
            print(f"  errors, e.g.: {r['error_samples']}", file=sys.stderr)


if __name__ == "__main__":
    main()
