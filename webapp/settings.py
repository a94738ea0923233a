"""The web app's settings, declared once as data: name, type, default and help. Each comes from a
`KB_`-prefixed environment variable or from the config dict given to `create_app`, and is parsed
strictly: a bad value stops start-up with a message naming the variable, the value and what it
takes (`KB_RATELIMIT_ENABLED=false` used to crash Flask-Limiter at start-up with a traceback).
docs/deployment.md lists them; a test checks that it lists every one.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

from kb.errors import KbError


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str          # str | int | bool | auto-bool (true, false or auto)
    default: Any
    help: str
    low: int = 0
    high: int = 10**9


SETTINGS: tuple[Setting, ...] = (
    Setting("ROOT", "str", ".", "knowledge-base root (holds `case_studies/`, `bibliography.bib`)"),
    Setting("DATA_DIR", "str", None, "data folder of the build (database and index); default `ROOT/.kb`"),
    Setting("BASE_URL", "str", "http://127.0.0.1:5000",
            "the public address: stable URLs in citations of case studies and in the Atom feed"),
    Setting("SECRET_KEY", "str", None, "key that signs session cookies; default a random key made on first run in "
            "the instance folder (`instance/secret_key`, mode 600)"),
    Setting("PAGE_SIZE", "int", 20, "results per search page", 1, 100),
    Setting("SESSION_COOKIE_SECURE", "auto-bool", "auto",
            "send the session cookie over HTTPS only; `auto`: when `BASE_URL` starts with https://"),
    Setting("SESSION_IDLE_MINUTES", "int", 120, "a signed-in session ends after this long without a request", 1, 10**6),
    Setting("SESSION_LIFETIME_HOURS", "int", 12, "a signed-in session ends this long after sign-in, however active",
            1, 10**5),
    Setting("TRUSTED_PROXIES", "int", 0, "reverse proxies in front of the app whose `X-Forwarded-For` and "
            "`X-Forwarded-Proto` are believed (0: none; the client address is the connection's)", 0, 10),
    Setting("SIGNIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", "int", 5,
            "failed sign-ins allowed for one account from one address in 15 minutes", 1, 10**6),
    Setting("SIGNIN_FAILURES_PER_ACCOUNT", "int", 20,
            "failed sign-ins allowed for one account from all addresses in an hour", 1, 10**6),
    Setting("SIGNIN_FAILURES_PER_ADDRESS", "int", 100,
            "failed sign-ins allowed from one address for all accounts in an hour", 1, 10**6),
    Setting("MAX_CONTENT_LENGTH", "int", 1024 * 1024, "largest request body accepted, in bytes", 1024, 10**9),
)
BY_NAME = {s.name: s for s in SETTINGS}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class SettingError(KbError):
    """A setting with a value it cannot take; the message names the variable and what it takes."""


def parse(setting: Setting, value: Any, source: str) -> Any:
    if value is None or (setting.kind != "str" and not isinstance(value, str)):
        return value if value is not None else setting.default
    text = str(value).strip()
    where = f"{source}={value!r}"
    if setting.kind == "str":
        return text
    if setting.kind == "int":
        if not re.fullmatch(r"[0-9]{1,10}", text) or not setting.low <= int(text) <= setting.high:
            raise SettingError(f"{where}: {setting.name} takes a whole number from {setting.low} to {setting.high}")
        return int(text)
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    if setting.kind == "auto-bool" and lowered == "auto":
        return "auto"
    choices = "true, false" + (" or auto" if setting.kind == "auto-bool" else "")
    raise SettingError(f"{where}: {setting.name} takes {choices}")


def load(given: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every declared setting: `given` wins over the environment, which wins over the default."""
    environ = os.environ if environ is None else environ
    given = given or {}
    values = {}
    for setting in SETTINGS:
        if setting.name in given:
            values[setting.name] = parse(setting, given[setting.name], setting.name)
        elif f"KB_{setting.name}" in environ:
            values[setting.name] = parse(setting, environ[f"KB_{setting.name}"], f"KB_{setting.name}")
        else:
            values[setting.name] = setting.default
    if values["SESSION_COOKIE_SECURE"] == "auto":
        values["SESSION_COOKIE_SECURE"] = str(values["BASE_URL"]).lower().startswith("https://")
    return values
