"""The reviewer pages: sign-in, each role's permissions over HTTP, CSRF, rate limiting, blind
mode, conflicts that keep what was typed, reconciliation, and the public view of the results."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from bs4 import BeautifulSoup

from kb.reviews import accounts, audit
from kb.reviews.records import Target
from kb.reviews.roles import system_actor
from kb.reviews.service import reviews_of

PASSWORD = "correct horse battery"
TARGET = "second-case/shootings"


@pytest.fixture
def users(app, monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    from webapp.kbstore import get_kb
    with app.app_context():
        engine = get_kb().engine
        for name, role in (("alice", "reviewer"), ("bob", "reviewer"), ("ed", "editor"), ("rita", "reader")):
            accounts.add_user(engine, system_actor(), name, role, PASSWORD)
    return engine


def signin(client, name):
    return client.post("/signin", data={"name": name, "password": PASSWORD})


def review(client, target=TARGET, **values):
    data = {"sms_grade": "4", "confidence": "high", "relevance": "high", "status": "reviewed", "note": "fine", **values}
    return client.post(f"/reviews/item/{target}", data=data)


def test_signin_signout(client, users):
    assert signin(client, "alice").headers["Location"] == "/reviews"
    page = BeautifulSoup(client.get("/").data, "html.parser")
    assert "Sign out alice" in page.select_one("header nav").get_text()
    client.post("/signout")
    assert "Sign in" in BeautifulSoup(client.get("/").data, "html.parser").select_one("header nav").get_text()
    assert client.post("/signin", data={"name": "alice", "password": "wrong password!"}).status_code == 401


@pytest.mark.parametrize("who,method,url,status", [
    (None, "post", f"/reviews/item/{TARGET}", 401),
    ("rita", "post", f"/reviews/item/{TARGET}", 403),
    (None, "get", "/reviews", 401),
    ("alice", "get", "/reviews", 200),
    ("alice", "post", f"/reviews/item/{TARGET}/reconcile", 403),
    ("alice", "get", "/reviews/agreement", 403),
    ("alice", "get", f"/reviews/item/{TARGET}/history", 403),
    ("alice", "post", "/reviews/settings", 403),
    ("ed", "get", "/reviews/agreement", 200),
    ("ed", "get", f"/reviews/item/{TARGET}/history", 200),
])
def test_role_permissions(client, users, who, method, url, status):
    if who:
        signin(client, who)
    response = getattr(client, method)(url, data={"sms_grade": "3", "reason": "x", "blind_mode": "off"})
    assert response.status_code == status
    if status != 200:
        assert reviews_of(users, Target("second-case", "shootings")) == []


def test_forms_are_csrf_protected(app, client, users):
    signin(client, "alice")
    app.config["WTF_CSRF_ENABLED"] = True
    assert review(client).status_code == 400
    assert reviews_of(users, Target("second-case", "shootings")) == []


def test_failed_signins_are_rate_limited(client, users):
    statuses = [client.post("/signin", data={"name": "alice", "password": "not the password"}).status_code
                for _ in range(7)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


def test_blind_mode_then_visible_after_own_review(client, users):
    signin(client, "alice")
    assert review(client, sms_grade="2", note="alice thinks weak").status_code == 302
    client.post("/signout")
    signin(client, "bob")
    page = client.get(f"/reviews/item/{TARGET}").get_data(as_text=True)
    assert "hidden until you submit yours" in page and "alice thinks weak" not in page
    review(client, sms_grade="4")
    page = client.get(f"/reviews/item/{TARGET}").get_data(as_text=True)
    assert "alice thinks weak" in page


def test_conflicting_save_keeps_what_was_typed(client, users):
    signin(client, "alice")
    assert review(client).status_code == 302                                  # version 1
    assert review(client, version="1", note="first edit").status_code == 302  # version 2
    response = review(client, version="1", note="typed in a stale form")     # saved against version 1
    assert response.status_code == 409
    page = BeautifulSoup(response.data, "html.parser")
    assert page.select_one("#note").get_text() == "typed in a stale form"
    assert "version 2" in page.select_one("[role=alert]").get_text()
    assert [r.note for r in reviews_of(users, Target("second-case", "shootings"))] == ["first edit"]


def test_hostile_note_is_sanitised_on_the_page(client, users):
    signin(client, "alice")
    review(client, note='<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))')
    html = client.get(f"/reviews/item/{TARGET}").get_data(as_text=True)
    note = BeautifulSoup(html, "html.parser").select_one("td.note")
    assert note.find("script") is None and "onerror" not in str(note) and "javascript:" not in str(note)


def test_reconciliation_and_public_view(client, users):
    for name, grade in (("alice", "2"), ("bob", "4")):
        signin(client, name)
        review(client, sms_grade=grade)
        client.post("/signout")
    signin(client, "ed")
    agreement = client.get("/reviews/agreement").get_data(as_text=True)
    assert f"/reviews/item/{TARGET}" in agreement                       # listed as a disagreement
    assert client.post(f"/reviews/item/{TARGET}/reconcile",
                       data={"sms_grade": "3", "confidence": "moderate", "reason": "split the difference"}).status_code == 302
    client.post("/signout")
    page = BeautifulSoup(client.get("/cases/second-case").data, "html.parser")
    assert page.select_one("#evidence-shootings td.public-review").get_text(" ", strip=True) == "SMS 3, moderate confidence"
    assert "split the difference" not in page.get_text()                 # reasons and notes are not public
    facet = BeautifulSoup(client.get("/search").data, "html.parser")
    review_facet = [s for s in facet.select(".facet") if s.h2.get_text() == "Review"][0]
    assert {a.get_text(): a.find_next_sibling("span").get_text() for a in review_facet.select("a")} == {
        "reconciled": "1", "unreviewed": "1"}
    filtered = BeautifulSoup(client.get("/search?review=reconciled").data, "html.parser")
    assert [h.get_text(strip=True) for h in filtered.select(".hit h2")] == ["Ceasefire in Boston"]
    cell = BeautifulSoup(client.get("/evidence-map").data, "html.parser").select_one(".reconciled")
    assert cell.get_text() == "1 reconciled, SMS 3.0"
    listed = BeautifulSoup(client.get("/evidence?reconciled=1").data, "html.parser").select(".evidence-item")
    assert len(listed) == 1 and "reconciled SMS 3" in listed[0].get_text()
    everything = BeautifulSoup(client.get("/evidence").data, "html.parser").get_text()
    assert "reconciled SMS 3" in everything                     # the kept page shows today's reconciliation
    actions = sorted(e.action for e in audit.entries(users, target=TARGET))
    assert actions == ["reconcile", "review.create", "review.create", "review.reconciled", "review.reconciled"]


def test_drafts_visible_to_signed_in_reviewers(client, users):
    assert client.get("/cases/draft-case").status_code == 404
    signin(client, "alice")
    assert client.get("/cases/draft-case").status_code == 200


def test_orphans_are_shown_to_editors(client, users, built_root):
    from kb.storage.build import build
    signin(client, "alice")
    review(client)
    client.post("/signout")
    (built_root / "case_studies" / "deterrence" / "second-case.md").unlink()
    assert [str(r.target) for r in build(built_root).orphaned] == [TARGET]
    signin(client, "ed")
    page = BeautifulSoup(client.get("/reviews").data, "html.parser")
    orphans = page.find("h2", string="Orphaned reviews").find_next("ul").get_text(" ", strip=True)
    assert orphans.startswith(f"{TARGET} — alice, reviewed, SMS 4")
