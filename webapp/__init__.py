"""The web face of the knowledge base: Flask, one blueprint per area, templates and static files
shipped in the package (no CDN). Pages work without JavaScript.

    create_app({"ROOT": "/path/to/root"})   # or KB_ROOT=/path/to/root in the environment
    create_app(settings)                    # a kb.settings.Settings (what `kb serve` passes)

Settings are declared in kb/settings.py; `security.py` adds the headers every response carries.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from kb import knowledgebase
from kb.errors import KbError
from kb.settings import BY_NAME, Settings
from webapp import errors, kbstore, security

csrf = CSRFProtect()

FLASK_DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_FORM_PARTS": 200,
}


def create_app(config: dict | Settings | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(FLASK_DEFAULTS)
    if isinstance(config, Settings):
        settings, config = config, {}
    else:
        config = dict(config or {})
        settings = Settings.load({k: v for k, v in config.items() if k in BY_NAME})
    app.config.update(settings.as_dict())
    app.config.update({k: v for k, v in config.items() if k not in BY_NAME})   # Flask's own (tests)
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=app.config["SESSION_LIFETIME_HOURS"])
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)   # type: ignore[method-assign]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True, mode=0o700)
    app.config["SECRET_KEY"] = _secret_key(settings, app.config.get("SECRET_KEY"), Path(app.instance_path))
    knowledgebase.check_startup(settings)
    csrf.init_app(app)
    kbstore.init_app(app, settings)
    errors.init_app(app)
    security.init_app(app)
    from webapp import api, basket, cases, compare, evidence, findings, review_admin, reviews, search, sources, unapi
    for module in (search, cases, evidence, findings, sources, basket, compare, reviews, review_admin, api, unapi):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)  # read-only JSON; state-changing API calls (reviews) carry their own token
    app.jinja_env.globals.update(kbstore.template_globals())
    return app


MIN_KEY_CHARS = 16


def _secret_key(settings: Settings, given: str | None, instance: Path) -> str:
    """The session-signing key: KB_SECRET_KEY, else the file KB_SECRET_KEY_FILE names (a secret
    store's mounted secret), else, with SQLite only, a key made on first run in the instance
    folder. With PostgreSQL the hosts of a team share the database and must share the key too
    (a session made on one is valid on every other): a key made per host would sign out anyone
    whose next request reached another host, so start-up stops and says what to set."""
    if given:
        return given
    if settings.SECRET_KEY_FILE:
        path = Path(settings.SECRET_KEY_FILE)
        try:
            key = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise KbError(f"cannot start: KB_SECRET_KEY_FILE={str(path)!r} cannot be read "
                          f"({getattr(exc, 'strerror', None) or exc}); make it readable by this user") from None
        if len(key) < MIN_KEY_CHARS:
            raise KbError(f"cannot start: the key in KB_SECRET_KEY_FILE={str(path)!r} has {len(key)} characters; "
                          f"use at least {MIN_KEY_CHARS} random ones, e.g. `python -c 'import secrets; "
                          "print(secrets.token_hex(32))'`")
        return key
    if settings.on_postgres:
        raise KbError("cannot start: the database is PostgreSQL, so this may be one of several hosts, and each "
                      "would make its own session key (a reviewer signed in on one host would be signed out on "
                      "the next); set KB_SECRET_KEY, or KB_SECRET_KEY_FILE to a file holding it, to the same "
                      "value on every host")
    return _instance_secret(instance)


def _instance_secret(instance: Path) -> str:
    """The session-signing key: from KB_SECRET_KEY, else a file made on first run, readable only
    by its owner; never from the repository."""
    path = instance / "secret_key"
    if not path.exists():   # written whole under another name, then linked: no worker reads half a key
        tmp = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass            # another worker made it first: use theirs
        finally:
            tmp.unlink()
    return path.read_text().strip()
