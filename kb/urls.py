"""The one URL policy for everything that comes from content or users: only `http` and `https`
addresses become links, and a DOI becomes `https://doi.org/<doi>`. Validation reports any other
scheme as an error; the pages, exports and feeds call `safe_url` before emitting an address, so an
address that slipped past validation (an old database, an import) is shown as text, never linked.
"""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

SCHEMES = frozenset({"http", "https"})
DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
# What a browser strips or ignores inside a URL before reading its scheme (WHATWG URL standard):
# leading and trailing C0 controls and spaces, and tabs and newlines anywhere.
_IGNORED = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def scheme_of(value: str) -> str:
    """The scheme a browser would read in `value` ("" for a relative address)."""
    cleaned = _IGNORED.sub("", value.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12"
                                           "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \t\n\r"))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else ""


def is_web_url(value: str) -> bool:
    """An absolute http(s) address with a host, and nothing a browser would strip or reinterpret."""
    if not value or re.search(r"\s", value) or _CONTROL.search(value) or "\\" in value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in SCHEMES and bool(parts.hostname)


def safe_url(value: str | None) -> str | None:
    """`value` if it may be a link, else None (show it as text)."""
    value = (value or "").strip()
    return value if is_web_url(value) else None


def bare_doi(value: str) -> str:
    return DOI_PREFIX.sub("", (value or "").strip())


def doi_url(value: str | None) -> str | None:
    """https://doi.org/ and the DOI, its characters escaped as a path ('/' kept)."""
    doi = bare_doi(value or "")
    return f"https://doi.org/{quote(doi, safe='/:;()[]._-')}" if doi else None
