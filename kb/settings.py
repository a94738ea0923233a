"""Every setting of kb, declared once as data (name, type, default, help), and `Settings`: the
values of one process, built once from what it was given (CLI options, `create_app`'s dict), the
`KB_`-prefixed environment variables and the defaults, in that order, then passed down. This is
the only module that reads the environment. Values are parsed strictly: a bad one stops start-up
with a message naming the variable, the value and what it takes. `kb config` prints the effective
values and where each came from; docs/deployment.md lists them (a test keeps it complete).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import KbError


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str          # str | int | bool | auto-bool (true, false or auto) | choice
    default: Any
    help: str
    low: int = 0
    high: int = 10**9
    choices: tuple[str, ...] = ()
    secret: bool = False   # `kb config` shows that it is set, never its value


SETTINGS: tuple[Setting, ...] = (
    Setting("ROOT", "str", ".", "knowledge-base root (holds `case_studies/`, `bibliography.bib`)"),
    Setting("DATA_DIR", "str", None, "data folder of the build (database and index); default `ROOT/.kb`"),
    Setting("DATABASE_URL", "str", None, "PostgreSQL instead of SQLite, e.g. `postgresql+psycopg://kb@127.0.0.1/kb`; "
            "default SQLite in the data folder", secret=True),
    Setting("SEARCH", "choice", "auto", "the full-text search engine: `whoosh` (an index folder in the data folder, "
            "one host), `postgres` (in the database, shared by every host) or `auto` (PostgreSQL's when the database "
            "is PostgreSQL, Whoosh otherwise)", choices=("auto", "whoosh", "postgres")),
    Setting("BASE_URL", "str", "http://127.0.0.1:5000",
            "the public address: stable URLs in citations of case studies and in the Atom feed"),
    Setting("SECRET_KEY", "str", None, "key that signs session cookies; default a random key made on first run in "
            "the instance folder (`instance/secret_key`, mode 600); required, or `SECRET_KEY_FILE`, with a "
            "PostgreSQL database, since every host must sign with the same key", secret=True),
    Setting("SECRET_KEY_FILE", "str", None, "a file holding the session-signing key (a secret store's mounted "
            "secret), read at start-up; used when `SECRET_KEY` is not set"),
    Setting("PAGE_SIZE", "int", 20, "results per search page", 1, 100),
    Setting("RENDER_PAGES", "choice", "build", "when case pages are formatted in the short list's styles: `build` "
            "(right after each build, so first views are fast) or `first-view` (builds are faster; a page's first "
            "view costs a pandoc run, about 0.2 s)", choices=("build", "first-view")),
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
DB_FILE = "kb.sqlite3"   # the SQLite database in the data folder
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
DEFAULT, ENVIRONMENT = "default", "environment"


class SettingError(KbError):
    """A setting with a value it cannot take; the message names the variable and what it takes."""


def parse(setting: Setting, value: Any, source: str) -> Any:
    if value is None or (setting.kind != "str" and not isinstance(value, str)):
        return value if value is not None else setting.default
    text = str(value).strip()
    where = f"{source}={value!r}"
    if setting.kind == "str":
        return text
    if setting.kind == "choice":
        if text not in setting.choices:
            raise SettingError(f"{where}: {setting.name} takes one of: {', '.join(setting.choices)}")
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


class Settings:
    """The effective settings of one process. `settings.PAGE_SIZE` is a value; `root`, `data_dir`
    and `database_url` are the derived paths everything else uses."""

    def __init__(self, values: Mapping[str, Any], sources: Mapping[str, str]):
        self._values = dict(values)
        self.sources = dict(sources)

    @classmethod
    def load(cls, given: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
             source: str = "given") -> "Settings":
        """`given` (keys are setting names; None values are ignored) wins over the environment,
        which wins over the default. `source` says where `given` came from, for `kb config`."""
        environ = os.environ if environ is None else environ
        given = {k: v for k, v in (given or {}).items() if v is not None}
        values, sources = {}, {}
        for setting in SETTINGS:
            variable = f"KB_{setting.name}"
            if setting.name in given:
                values[setting.name] = parse(setting, given[setting.name], setting.name)
                sources[setting.name] = source
            elif variable in environ:
                values[setting.name] = parse(setting, environ[variable], variable)
                sources[setting.name] = f"{ENVIRONMENT} {variable}"
            else:
                values[setting.name] = setting.default
                sources[setting.name] = DEFAULT
        if values["SESSION_COOKIE_SECURE"] == "auto":
            values["SESSION_COOKIE_SECURE"] = str(values["BASE_URL"]).lower().startswith("https://")
        settings = cls(values, sources)
        if values["SEARCH"] == "postgres" and not settings.on_postgres:
            raise SettingError(f"{sources['SEARCH']}: SEARCH=postgres keeps the index in a PostgreSQL database, and "
                               "DATABASE_URL names none (set KB_DATABASE_URL=postgresql+psycopg://..., or "
                               "KB_SEARCH=whoosh or auto)")
        return settings

    @classmethod
    def for_root(cls, root: Path | str | None = None, data: Path | str | None = None) -> "Settings":
        """The settings of a library call that names only a root (and perhaps a data folder)."""
        return cls.load({"ROOT": str(root) if root is not None else None, "DATA_DIR": str(data) if data else None})

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def root(self) -> Path:
        return Path(self._values["ROOT"]).resolve()

    @property
    def data_dir(self) -> Path:
        chosen = self._values["DATA_DIR"]
        return Path(chosen).resolve() if chosen else self.root / ".kb"

    @property
    def database_url(self) -> str:
        return self._values["DATABASE_URL"] or f"sqlite:///{self.data_dir / DB_FILE}"

    @property
    def on_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def search_backend(self) -> str:
        """The search engine in use: `SEARCH`, with `auto` resolved by the database."""
        chosen = self._values["SEARCH"]
        return ("postgres" if self.on_postgres else "whoosh") if chosen == "auto" else chosen

    @property
    def base_url(self) -> str:
        return str(self._values["BASE_URL"]).rstrip("/")

    def shown(self) -> list[tuple[str, str, str]]:
        """(variable, value, where it came from) for `kb config`; secrets are never shown."""
        rows = []
        for setting in SETTINGS:
            value = self._values[setting.name]
            if setting.secret and value:
                shown = "(set)"
            elif value is None:
                shown = {"DATA_DIR": str(self.data_dir), "DATABASE_URL": self.database_url}.get(setting.name, "(none)")
            else:
                shown = str(value)
            rows.append((f"KB_{setting.name}", shown, self.sources[setting.name]))
        return rows
