"""The web face of the knowledge base: Flask, one blueprint per area, templates and static files
shipped in the package (no CDN). Pages work without JavaScript.

    create_app({"ROOT": "/path/to/root"})   # or KB_ROOT=/path/to/root in the environment
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import errors, kbstore

csrf = CSRFProtect()

# Every setting can come from a KB_-prefixed environment variable: KB_ROOT, KB_DATA_DIR, ...
DEFAULTS = {
    "ROOT": ".",                    # knowledge-base root (case_studies/, bibliography.bib)
    "DATA_DIR": None,               # data folder (default ROOT/.kb)
    "BASE_URL": "http://127.0.0.1:5000",  # stable URLs in citations of case studies and the feed
    "PAGE_SIZE": 20,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("KB")          # KB_FOO=... -> app.config["FOO"]
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _instance_secret(Path(app.instance_path))
    csrf.init_app(app)
    kbstore.init_app(app)
    errors.init_app(app)
    from . import api, basket, cases, reviews, search, sources
    for module in (search, cases, sources, basket, reviews, api):
        app.register_blueprint(module.bp)
    reviews.limiter.init_app(app)   # failed sign-ins are counted per worker process (memory storage)
    reviews.limiter.reset()
    csrf.exempt(api.bp)  # read-only JSON; state-changing API calls (reviews) carry their own token
    app.jinja_env.globals.update(kbstore.template_globals())
    return app


def _instance_secret(instance: Path) -> str:
    """The session-signing key: from KB_SECRET_KEY, else a file made on first run, readable only
    by its owner; never from the repository."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()
