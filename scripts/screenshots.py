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
DESKTOP, PHONE_SIZE = {"width": 1280, "height": 860}, {"width": 390, "height": 844}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def main(names: list[str]) -> None:
    from kb.storage.build import build
    from webapp import create_app
    os.environ.pop("KB_DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as data:
        build(ROOT, data)
        app = create_app({"ROOT": str(ROOT), "DATA_DIR": data, "SECRET_KEY": "screenshots"})
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
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
