"""Fuzzers, run in CI: every route driven with generated parameter values (no 500, no response
slower than 2 s, no server path in any answer), and generated hostile Markdown, YAML and BibTeX fed
to `kb validate` (bounded time, no traceback)."""
from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from conftest import BIB, case_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_web_reviews import PASSWORD, users  # noqa: F401  (fixture)
from werkzeug.datastructures import MultiDict

SLOW = 2.0   # seconds: the most any response may take

QUERY_WORDS = ["police", "AND", "OR", "NOT", "ANDNOT", "(", ")", '"', "*", "?", "~", "^", "^2", ":", "themes:",
               "country:", "years:[1990 TO 2000]", "title:", "outcome:violence", "a*", "*a", "ha?m", "[", "]", "{", "}",
               "-", "+", "\\", "/", "Zürich", "ß", "\u0000", "\u202e", "𝔘", "\ufeff", "'", "drug~3", "x" * 40]
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
QUERY = st.one_of(TEXT, st.lists(st.sampled_from(QUERY_WORDS), max_size=25).map(" ".join),
                  st.lists(st.sampled_from(QUERY_WORDS), max_size=6).map(lambda ws: " ".join(ws) * 20))
ODD_NUMBERS = ["²", "①", "٣", "９", "", " ", "1.5", "1e3", "0x10", "+3", "-0", "-1", "0", "99999999999999999999",
               "1" * 5000, "3 ", " 3", "Ⅳ"]
NUMBER = st.one_of(st.integers(-5, 10**12).map(str), st.sampled_from(ODD_NUMBERS))
SPECIAL = st.sampled_from(["police-harm-reduction", "violence", "rct", "1990s", "GB", "gb", "apa", "chicago-author-date",
                           "reconciled", "in-review", "updated", "period", "relevance", "sample-case", "second-case",
                           "draft-case", "second-case/shootings", "source:doe2020policing", "case:sample-case",
                           "ris", "bibtex", "csl-json", "//evil.example", "/%09/evil", "/\\evil",
                           "javascript:alert(1)", "1", "on", "off", "reviewed", "high", "none", "\r\nX: y"])
VALUE = st.one_of(NUMBER, SPECIAL, TEXT, QUERY)
PARAMS = ["q", "theme", "concept", "country", "market_level", "outcome", "design", "decade", "review", "sort",
          "limit", "page", "style", "drafts", "id", "next", "sms_grade", "confidence", "relevance", "status", "note",
          "free_tags", "tags", "version", "reason", "item", "name", "password", "blind_mode", "tag_name",
          "tag_label", "tag_public", "weights", "format"]
ARGS = st.lists(st.tuples(st.sampled_from(PARAMS), VALUE), max_size=40)
SEGMENT = st.one_of(st.sampled_from(["sample-case", "second-case", "draft-case", "shootings", "overdose-deaths", "bib",
                                     "ris", "json", "txt", "doe2020policing", "police-harm-reduction", "CA", "GB",
                                     "history", "reconcile", "..", ".", "%00", "style.css", "app.js"]), TEXT)


def _fill(rule: str, segments: list[str]) -> str:
    parts, chosen = [], iter(segments)
    for piece in rule.replace(">", "<").split("<"):
        if ":" in piece or piece in ("case_id", "fmt", "name", "code", "key", "evidence_id"):
            parts.append(quote(next(chosen, "x") or "x", safe=""))
        else:
            parts.append(piece)
    return "".join(parts)


def _routes() -> list[tuple[str, str]]:
    from webapp import create_app
    app = create_app({"ROOT": ".", "SECRET_KEY": "x"})
    return sorted({(rule.rule, method) for rule in app.url_map.iter_rules()
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


@pytest.mark.parametrize("rule,method", _routes())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_route_survives_generated_parameters(app, client, users, built_root, rule, method, data):  # noqa: F811
    who = data.draw(st.sampled_from([None, "alice", "ed"]), label="who")
    with client.session_transaction() as session:
        session.clear()
    if who:
        client.post("/signin", data={"name": who, "password": PASSWORD})
    path = _fill(rule, data.draw(st.lists(SEGMENT, min_size=3, max_size=3), label="segments"))
    args = MultiDict(data.draw(ARGS, label="args"))
    started = time.perf_counter()
    if method == "GET":
        response = client.get(path, query_string=args)
    else:
        response = client.post(path, data=args)
    seconds = time.perf_counter() - started
    body = response.get_data(as_text=True)
    response.close()
    assert response.status_code != 500, (method, path, args, body[:300])
    assert seconds < SLOW, (method, path, args, seconds)
    assert str(built_root) not in body and "Traceback" not in body, (method, path, args)


YAML_UNITS = ["&a ", "*a ", "!!python/object:os.system ", "!!binary ", "[", "]", "{", "}", ": ", "- ", "? ", "|", ">",
              "'", '"', "#", "\n", "  ", "\t", "%YAML 1.1\n", "---\n", "...\n", "NO", "1e3", "~", "@", "`", "\\", "\ufeff",
              "key", "id", "evidence", "<<: *a\n", "\u0085", "\x00"]
MD_UNITS = ["[", "]", "(", ")", "!", "`", "```", "~~~", "*", "_", "#", ">", "-", "1.", "|", "<", "&", "@", "[@",
            "[@doe2020policing]", "](javascript:x)", "<a href=x>", "\\", "\n", "\n\n", "    ", "http://", "www.", ":",
            ";", "\uf8f0", "\uf8f1", "&#0;", "\r"]
BIB_UNITS = ["@", "{", "}", ",", "=", '"', "#", "%", "\\", "'", "~", "$", "@article", "@string{a=", "@comment",
             "@preamble{", "title", "author", " and ", "url = {javascript:x}", "\n", "\\'e", "{\\", "doi"]


def _hostile(units: list[str]) -> st.SearchStrategy[str]:
    run = st.tuples(st.sampled_from(units), st.integers(1, 400)).map(lambda pair: pair[0] * pair[1])
    return st.lists(st.one_of(st.sampled_from(units), run), max_size=40).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front=_hostile(YAML_UNITS), body=_hostile(MD_UNITS), bib=_hostile(BIB_UNITS), where=st.integers(0, 2))
def test_hostile_content_is_validated_in_bounded_time(kb_root, runner, front, body, bib, where):
    from kb.cli import main
    files = {"sample-case.md": case_text(body=body)}
    if where == 0:
        files["hostile.md"] = "---\n" + front + "\n---\n" + body
    elif where == 1:
        files["hostile.md"] = case_text("hostile", locality=front.replace("\n", " ") or "x", body=body)
    root = kb_root(files, bib=BIB + bib)
    started = time.perf_counter()
    result = runner.invoke(main, ["--root", str(root), "validate", "--strict"])
    assert time.perf_counter() - started < SLOW, (front, body, bib)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
