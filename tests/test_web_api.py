"""The JSON API: whole-dict comparisons, one error shape, and an OpenAPI document that covers it."""
from __future__ import annotations

import json

import pytest

from kb.cli import main


def test_api_search_is_the_cli_json(client, built_root, runner):
    api = client.get("/api/search?q=ceasefire").get_json()
    cli = json.loads(runner.invoke(main, ["--root", str(built_root), "search", "ceasefire", "--format", "json"]).output)
    assert api == cli
    assert api["total"] == 1 and api["results"][0]["id"] == "second-case"


def test_api_cases(client):
    data = client.get("/api/cases?theme=targeted-deterrence").get_json()
    assert data == {"total": 1, "cases": [{
        "id": "second-case", "title": "Ceasefire in Boston",
        "summary": "Police referred people who inject drugs to a supervised injection site.",
        "themes": ["targeted-deterrence"], "country": ["US"], "period": "1996-2000", "updated": "2024-05-01",
        "status": "published", "url": "/api/cases/second-case"}]}
    assert client.get("/api/cases").get_json()["total"] == 2          # the draft is not listed
    assert client.get("/api/cases?country=ca").get_json()["cases"][0]["id"] == "sample-case"


def test_api_case(client):
    data = client.get("/api/cases/second-case").get_json()
    assert data["evidence"][0] == {"id": "shootings", "claim": "Shootings fell after call-ins & meetings.",
                                   "cite": "[@roe2015cannabis, ch. 2]", "outcome": "violence", "direction": "improved",
                                   "design": "quasi-experimental", "strength": 4, "effect": None, "studies": None,
                                   "change": "",
                                   "citations": [{"key": "roe2015cannabis", "locator": "ch. 2", "prefix": "", "suppress_author": False}]}
    assert data["emmie"] == ["effect"]
    assert data["verdicts"]["violence"]["verdict"] == "promising"
    assert data["verdicts"]["violence"]["badge"] == "1 item, 1 source, best SMS 4, not reviewed"
    assert data["ledger"]["harms"] == [{"id": "shootings", "outcome": "violence", "move": "improved", "score": "",
                                        "claim": "Shootings fell after call-ins & meetings."}]
    assert data["links"] == {"html": "/cases/second-case", "bib": "/cases/second-case/cite.bib",
                             "ris": "/cases/second-case/cite.ris", "json": "/cases/second-case/cite.json"}
    assert data["body"].startswith("## Context")


def test_api_source_and_themes(client):
    data = client.get("/api/sources/roe2015cannabis").get_json()
    assert {k: data[k] for k in ("key", "type", "title", "authors", "year")} == {
        "key": "roe2015cannabis", "type": "book", "title": "Cannabis Coffeeshops and the Law", "authors": "Roe, Richard", "year": "2015"}
    assert data["cited_by"] == [{"case": "second-case", "evidence": "shootings", "locator": "ch. 2"},   # by case title
                                {"case": "sample-case", "evidence": None, "locator": ""}]
    themes = client.get("/api/themes").get_json()["themes"]
    assert themes[0] == {"id": "police-harm-reduction", "label": "Police support for harm reduction",
                         "description": "How police forces can support health-oriented harm reduction.", "cases": 1,
                         "report": "monaghan2013police"}


@pytest.mark.parametrize("url,status,message", [
    ("/api/cases/nope", 404, "no case study with id 'nope'"),
    ("/api/sources/nope", 404, "no source with key 'nope'"),
    ("/api/search?theme=bogus", 400, "unknown theme 'bogus'; use one of: police-harm-reduction, targeted-deterrence, "
     "local-market-harm-reduction, tolerated-cannabis-markets, corruption-financial-crime, security-foreign-aid"),
    ("/api/search?limit=1000", 400, "limit must be a whole number from 1 to 100, not '1000'"),
    ("/api/cases?theme=a&country=b", 400, "filter by one of theme, concept or country at a time"),
    ("/api/nothing-here", 404, "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."),
])
def test_every_api_error_has_one_shape(client, url, status, message):
    response = client.get(url)
    assert response.status_code == status
    assert response.get_json() == {"error": {"status": status, "code": {400: "bad-request", 404: "not-found"}[status],
                                             "message": message}}


def test_method_not_allowed_is_json_too(client):
    response = client.post("/api/search")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method-not-allowed"


def test_openapi_describes_every_api_route(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    routes = {rule.rule.replace("<", "{").replace(">", "}").replace("{path:", "{")
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/") and rule.endpoint != "api.openapi"}
    assert routes == set(spec["paths"])
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]


def test_no_build_is_503_not_500(kb_root, tmp_path, monkeypatch):
    from webapp import create_app
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    app = create_app({"ROOT": str(kb_root()), "TESTING": True, "SECRET_KEY": "x"})
    response = app.test_client().get("/api/search?q=x")
    assert response.status_code == 503
    assert "run `kb build` first" in response.get_json()["error"]["message"]


def test_a_bug_is_logged_not_shown(app, client, monkeypatch, caplog):
    from kb.knowledgebase import KnowledgeBase
    monkeypatch.setattr(KnowledgeBase, "evidence_grid", lambda *a, **k: 1 / 0)
    response = client.get("/evidence-map")
    assert response.status_code == 500
    assert "ZeroDivisionError" not in response.get_data(as_text=True)
    assert "something went wrong on our side" in response.get_data(as_text=True)
    assert any("unhandled error on /evidence-map" in r.message for r in caplog.records)
