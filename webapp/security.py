"""What every response carries and every redirect obeys.

Headers: a strict Content-Security-Policy (scripts and styles only from this site's own files,
no inline script or style, no framing, forms post only here), `X-Frame-Options: DENY` for old
browsers, `nosniff`, a same-origin referrer policy, and HSTS when the request came over HTTPS.

Redirects: `local_target` is the one place that decides whether a `next=` value may be followed.
It accepts only a path on this site, after the normalisation a browser applies: browsers drop
tabs and newlines anywhere in a URL and read `\\` as `/`, so `/%09/evil.example/` or `/\\evil`
become `//evil.example/`, another host.
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Flask, request
from werkzeug.urls import iri_to_uri

CSP = "; ".join((
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
))
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
MAX_TARGET = 2000
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")   # controls, spaces, backslashes: what browsers rewrite


def local_target(value: str | None) -> str | None:
    """`value` as a same-site path to redirect to, or None if it is anything else."""
    if not value or len(value) > MAX_TARGET or _UNSAFE.search(value):
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    decoded = unquote(parts.path)
    if decoded.startswith("//") or _UNSAFE.search(decoded[:2]):
        return None        # a server or proxy that decodes %2F before routing would see another host
    return iri_to_uri(value)


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
