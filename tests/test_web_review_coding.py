"""The editors' pages for coding questions and allocation, and the review form with questions,
discussion notes and GRADE certainty per theme x outcome (issue 14, items 2-4, 7 and 8)."""
from __future__ import annotations

from bs4 import BeautifulSoup
from test_web_reviews import TARGET, signin, users  # noqa: F401  (the fixture)

from kb.reviews.records import parse_target
from kb.reviews.service import reviews_of

OUTCOME = "@targeted-deterrence/violence"


def page_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.data, "html.parser")


def reviews_now(client, target=TARGET):
    with client.application.app_context():
        from webapp.kbstore import get_kb
        return {r.reviewer: r for r in reviews_of(get_kb().db, parse_target(target))}


def test_editors_define_questions_and_reviewers_may_not(client, users):
    signin(client, "alice")
    refused = client.get("/reviews/questions")
    assert refused.status_code == 403 and "Defining coding questions is for editors and admins" in refused.get_data(as_text=True)
    client.post("/signout")
    assert client.get("/reviews/questions").status_code == 401
    signin(client, "ed")
    made = client.post("/reviews/questions", data={"key": "sample-size", "label": "Is the sample large enough?",
                                                    "scope": "evidence", "kind": "single",
                                                    "choices": "yes = Yes\nno = No\nUnclear", "required": "on"})
    assert made.status_code == 302
    bad = client.post("/reviews/questions", data={"key": "Bad Key", "label": "", "scope": "evidence", "kind": "single"})
    assert bad.status_code == 400 and "key" in page_of(bad).select_one(".flash.warn").get_text()
    assert client.post("/reviews/questions", data={"set": "robins-i"}).status_code == 302
    listing = page_of(client.get("/reviews/questions"))
    rows = [row.select_one("code").get_text() for row in listing.select("tbody tr")]
    assert rows[0] == "sample-size" and "robins-overall" in rows and len(rows) == 9
    edited = client.post("/reviews/questions/sample-size", data={"label": "Large enough for the claim?", "version": "1",
                                                                 "choices": "yes = Yes\nno = No\nunclear = Unclear",
                                                                 "active": "on", "required": "on"})
    assert edited.status_code == 302
    versions = page_of(client.get("/reviews/questions/sample-size")).select("ol.changes li")
    assert [v.get_text().split(",")[0] for v in versions] == ["Version 2", "Version 1"]
    stale = client.post("/reviews/questions/sample-size", data={"label": "Late", "version": "1", "active": "on"})
    assert stale.status_code == 409


def test_the_form_asks_the_questions_and_keeps_the_answers(client, users):
    signin(client, "ed")
    client.post("/reviews/questions", data={"key": "sample-size", "label": "Is the sample large enough?",
                                            "scope": "evidence", "kind": "single", "choices": "Yes\nNo",
                                            "required": "on"})
    signin(client, "alice")
    form = page_of(client.get(f"/reviews/item/{TARGET}")).select_one("form.review-form")
    assert form.select_one("input[name=asked]")["value"] == "sample-size"
    assert [i["value"] for i in form.select("input[name=q-sample-size]")] == ["yes", "no", ""]
    base = {"sms_grade": "4", "confidence": "high", "action": "submit", "asked": "sample-size"}
    missing = client.post(f"/reviews/item/{TARGET}", data=base)
    assert missing.status_code == 400 and "is required when the review is submitted" in missing.get_data(as_text=True)
    saved = client.post(f"/reviews/item/{TARGET}", data={**base, "q-sample-size": "no"})
    assert saved.status_code == 302
    assert reviews_now(client)["alice"].answers == {"sample-size": {"version": 1, "value": "no"}}
    again = page_of(client.get(f"/reviews/item/{TARGET}"))
    assert again.select_one("#q-sample-size-no").has_attr("checked")
    assert "Is the sample large enough?: No" in again.select_one("td.note").get_text()


def test_assigning_puts_items_first_for_the_reviewer(client, users):
    signin(client, "alice")
    assert client.get("/reviews/assign").status_code == 403
    signin(client, "ed")
    page = page_of(client.get("/reviews/assign"))
    assert {i["value"] for i in page.select("input[name=reviewer]")} == {"alice", "bob", "ed"}   # no readers
    bad = client.post("/reviews/assign", data={"reviewer": "alice", "mode": "items", "targets": "nope/../x"})
    assert bad.status_code == 400
    made = client.post("/reviews/assign", data={"reviewer": ["alice", "bob"], "mode": "items",
                                                "targets": "sample-case/overdose-deaths"})
    assert made.status_code == 302
    load = [row.get_text(" ", strip=True) for row in page_of(client.get("/reviews/assign")).select("tbody tr")]
    assert load[:2] == ["alice 1 0 1", "bob 1 0 1"]
    signin(client, "alice")
    queue = page_of(client.get("/reviews"))
    assert "1 item assigned to you still to do" in queue.select_one(".lead").get_text()
    first = queue.select_one("section.queue-case li")
    assert "assigned to you" in first.get_text() and first.a["href"] == "/reviews/item/sample-case/overdose-deaths"
    assert page_of(client.get("/reviews?state=assigned")).select_one("p.total").get_text(strip=True).startswith("1 item")


def test_a_discussion_note_is_shown_to_reviewers_after_they_submit(client, users):
    signin(client, "alice")
    client.post(f"/reviews/item/{TARGET}", data={"sms_grade": "4", "confidence": "high", "action": "draft"})
    signin(client, "ed")
    saved = client.post(f"/reviews/item/{TARGET}/discussion", data={"note": "Check the *comparison* area."})
    assert saved.status_code == 302
    assert client.post(f"/reviews/item/{TARGET}/discussion", data={"note": "again"}).status_code == 409
    signin(client, "alice")
    assert page_of(client.get(f"/reviews/item/{TARGET}")).select_one("section.discussion") is None
    version = reviews_now(client)["alice"].version
    client.post(f"/reviews/item/{TARGET}", data={"sms_grade": "4", "confidence": "high", "action": "submit",
                                                 "version": str(version)})
    shown = page_of(client.get(f"/reviews/item/{TARGET}")).select_one("section.discussion")
    assert shown is not None and shown.em.get_text() == "comparison"
    signin(client, "bob")
    assert client.post(f"/reviews/item/{TARGET}/discussion", data={"note": "mine"}).status_code == 403


def test_a_theme_outcome_is_rated_and_its_certainty_reaches_the_findings(client, users):
    signin(client, "ed")
    client.post("/reviews/questions", data={"set": "grade"})
    signin(client, "alice")
    queue = page_of(client.get("/reviews?theme=targeted-deterrence"))
    assert any(a["href"] == f"/reviews/item/{OUTCOME}" for a in queue.select("section.queue-case a"))
    page = page_of(client.get(f"/reviews/item/{OUTCOME}"))
    assert page.h1.get_text(strip=True).startswith("Certainty: ")
    assert page.select_one("#sms_grade-5") is None and page.select_one("#q-grade-certainty-low") is not None
    assert "Shootings fell" in page.select_one(".claim-under-review").get_text()
    sent = client.post(f"/reviews/item/{OUTCOME}", data={"action": "submit", "asked": ["grade-certainty", "grade-downgrades"],
                                                         "q-grade-certainty": "low",
                                                         "q-grade-downgrades": ["risk-of-bias", "imprecision"]})
    assert sent.status_code == 302
    signin(client, "ed")
    done = client.post(f"/reviews/item/{OUTCOME}/reconcile",
                       data={"reason": "one quasi-experiment", "asked": ["grade-certainty", "grade-downgrades"],
                             "q-grade-certainty": "low", "q-grade-downgrades": "imprecision"})
    assert done.status_code == 302
    findings = page_of(client.get("/themes/targeted-deterrence/findings"))
    cell = findings.select_one("td[data-label=Certainty]").get_text(" ", strip=True)
    assert cell.startswith("low") and "GRADE, reconciled by reviewers; rated down for imprecision" in cell
    table = client.get("/themes/targeted-deterrence/findings.csv").get_data(as_text=True).splitlines()
    assert table[0].endswith("certainty_by,downgraded_for") and table[1].endswith("reviewers (GRADE),imprecision")
    assert client.get("/reviews/item/@targeted-deterrence/no-such").status_code == 404
    assert client.get("/reviews/item/@nope/violence").status_code == 404


def test_the_agreement_page_separates_open_from_reconciled_disagreements(client, users):
    for who, grade in (("alice", "2"), ("bob", "4")):
        signin(client, who)
        client.post(f"/reviews/item/{TARGET}", data={"sms_grade": grade, "confidence": "high", "action": "submit"})
    signin(client, "ed")
    page = page_of(client.get("/reviews/agreement"))
    assert page.select_one("#open-h").get_text() == "Open disagreements (1)"
    item = page.select_one("#open-h + ul li")
    assert "SMS grade: alice 2, bob 4" in item.get_text()
    assert item.select_one("a.button")["href"] == f"/reviews/item/{TARGET}#rec-h"
    assert page.select_one("tbody th").get_text() == "SMS grade"                  # not sms_grade
    assert "alice and bob: 1 item" in page.select_one("tr.pairs").get_text(" ", strip=True)
    client.post(f"/reviews/item/{TARGET}/reconcile", data={"sms_grade": "3", "reason": "quasi-experimental"})
    after = page_of(client.get("/reviews/agreement"))
    assert after.select_one("#open-h").get_text() == "Open disagreements (0)"
    assert "Reconciled since (1)" in after.get_text()
