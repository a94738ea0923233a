"""Screenshots of the main pages of the shipped knowledge base, for docs/ and the README.

    .venv/bin/python scripts/screenshots.py              # writes docs/screenshots/*.png
    .venv/bin/python scripts/screenshots.py search case  # only these (and their phone views)

Builds the collection into a temporary data folder, serves it in-process on 127.0.0.1 and
photographs the pages with Debian's Chromium through Playwright."""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = {
    "home": "/",
    "search": "/search?q=police&theme=police-harm-reduction",
    "case": "/cases/vancouver-insite-police-referral",
    "evidence-map": "/evidence-map",
    "time-and-place": "/charts",
}
PHONE = {"search", "case"}          # also photographed 390 px wide, as NAME-390.png
# the reviewers' pages (docs/reviews.md), seen by whom, after `seed_reviews` made a small team's work
ITEM = "boston-operation-ceasefire/youth-homicide-time-series"
REVIEW_PAGES = {
    "review-queue": ("/reviews", "alice"),
    "review-queue-390": ("/reviews", "alice"),
    "review-item": (f"/reviews/item/{ITEM}", "carol"),
    "review-questions": ("/reviews/questions", "ed"),
    "review-assign": ("/reviews/assign", "ed"),
    "review-agreement": ("/reviews/agreement", "ed"),
}
PASSWORD = "screenshots only, thrown away"
DESKTOP, PHONE_SIZE = {"width": 1280, "height": 860}, {"width": 390, "height": 844}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def seed_reviews(engine) -> None:
    """Three reviewers and an editor; the ROBINS-I questions; an item assigned to three reviewers,
    two of whom graded it differently; a random share of items for double grading."""
    from kb.reviews import accounts, assign, questions
    from kb.reviews.records import parse_target
    from kb.reviews.roles import system_actor
    from kb.reviews.service import create_review
    people = {name: accounts.add_user(engine, system_actor(), name, role, PASSWORD)
              for name, role in (("ed", "editor"), ("alice", "reviewer"), ("bob", "reviewer"), ("carol", "reviewer"))}
    questions.install_set(engine, people["ed"], "robins-i")
    assign.assign(engine, people["ed"], ["alice", "bob", "carol"], targets=[parse_target(ITEM)])
    assign.assign(engine, people["ed"], ["alice", "bob", "carol"], theme="targeted-deterrence", share=0.3, seed=1)
    for name, grade, certainty, bias in (("alice", 3, "moderate", "serious"), ("bob", 2, "low", "critical")):
        create_review(engine, people[name], ITEM, {"sms_grade": grade, "confidence": certainty, "relevance": "high",
                                                   "status": "reviewed",
                                                   "answers": {"robins-d1": bias, "robins-overall": bias}})


def main(names: list[str]) -> None:
    from kb.storage.build import build
    from webapp import create_app
    os.environ.pop("KB_DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as data:
        build(ROOT, data)
        app = create_app({"ROOT": str(ROOT), "DATA_DIR": data, "SECRET_KEY": "screenshots"})
        if not names or any(name.startswith("review") for name in names):
            from webapp.kbstore import get_kb
            with app.app_context():
                seed_reviews(get_kb().engine)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            shots = [(name, url, DESKTOP) for name, url in PAGES.items()]
            shots += [(f"{name}-390", PAGES[name], PHONE_SIZE) for name in PAGES if name in PHONE]
            for name, url, size in shots:
                if names and name.removesuffix("-390") not in names:
                    continue
                page = browser.new_page(viewport=size)
                page.goto(f"http://127.0.0.1:{server.server_port}{url}")
                page.screenshot(path=str(OUT / f"{name}.png"))
                page.close()
                print(OUT / f"{name}.png")
            base = f"http://127.0.0.1:{server.server_port}"
            for name, (url, who) in REVIEW_PAGES.items():
                if names and name not in names:
                    continue
                page = browser.new_page(viewport=PHONE_SIZE if name.endswith("-390") else DESKTOP)
                page.goto(f"{base}/signin")
                page.fill("#name", who)
                page.fill("#password", PASSWORD)
                page.locator("main form button[type=submit]").click()
                page.wait_for_url("**/reviews")
                page.goto(f"{base}{url}")
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=name == "review-agreement")
                page.close()
                print(OUT / f"{name}.png")
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
