"""Errors: an HTML page, or for /api/ one JSON shape, {"error": {"status", "code", "message"}}.
Unknown ids give 404, bad parameters 400, and nothing a visitor does gives a 500. No message shown
to a visitor names a path of the server: the details go to the log."""
from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from kb.errors import KbError, Unavailable

CODES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
         409: "conflict", 429: "too-many-requests", 500: "internal-error", 503: "unavailable"}


def error_response(status: int, message: str):
    if request.path.startswith("/api/") or request.path.endswith((".json", ".bib", ".ris")):
        response = jsonify({"error": {"status": status, "code": CODES.get(status, "error"), "message": message}})
        response.status_code = status
        return response
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = make_response(error_response(exc.code or 500, exc.description or exc.name))
        if getattr(exc, "retry_after", None):      # a busy server says when to come back (RFC 9110)
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(KbError)
    def kb_error(exc: KbError):  # no build yet, a missing or damaged database: the operator's to fix
        app.logger.error("knowledge base unavailable on %s: %s", request.path, exc)
        return error_response(503, exc.public if isinstance(exc, Unavailable) else
                              "the knowledge base could not answer this request; its operator has been told")

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):  # the database went away or is damaged mid-request
        app.logger.exception("database error on %s", request.path)
        return error_response(503, "the knowledge base's database is not available right now; its operator has been told")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # a bug: logged with its traceback, never shown to the visitor
        app.logger.exception("unhandled error on %s", request.path)
        return error_response(500, "something went wrong on our side; it has been logged")
