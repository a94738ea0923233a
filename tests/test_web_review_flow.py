"""The reviewer's flow in plain words (issue 14, items 1, 4, 6 and 9): "Save draft" and "Submit"
as two actions, the rubric beside each choice, the next item after submitting, the reconcile form
filled with the current reconciliation and the disagreements named, refusals that say who may,
sign-in that comes back, and free tags written as the list writes them."""
from __future__ import annotations

from bs4 import BeautifulSoup
from test_web_reviews import PASSWORD, TARGET, signin, users  # noqa: F401  (the fixture)

from kb.reviews.records import parse_target
from kb.reviews.roles import ANONYMOUS, User, refusal
from kb.reviews.service import reviews_of


def page_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.data, "html.parser")


def submit(client, target=TARGET, action="submit", **values):
    data = {"sms_grade": "4", "confidence": "high", "relevance": "high", "note": "", "action": action, **values}
    return client.post(f"/reviews/item/{target}", data=data)


def test_the_form_offers_draft_and_submit_with_the_rubric(client, users):
    signin(client, "alice")
    page = page_of(client.get(f"/reviews/item/{TARGET}"))
    buttons = {b["value"]: b.get_text(strip=True) for b in page.select("form.review-form button[name=action]")}
    assert buttons == {"draft": "Save draft", "submit": "Submit review"}
    assert "does not count" in page.select_one("#draft-help").get_text() and "counts in agreement" in page.select_one("#submit-help").get_text()
    sms = page.select_one("label[for=sms_grade-5]").get_text(" ", strip=True)
    assert sms == "5 Units randomly assigned to the intervention and to control."
    assert "Very confident" in page.select_one("label[for=confidence-high]").get_text()
    assert page.select_one("#status") is None                           # the status comes from the button
    assert page.select_one(".claim-under-review a[href='/sources/roe2015cannabis']") is not None


def test_a_draft_stays_in_review_and_a_submission_moves_on(client, users):
    signin(client, "alice")
    response = submit(client, action="draft", sms_grade="3")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reviews/item/{TARGET}")
    with client.application.app_context():
        from webapp.kbstore import get_kb
        mine = [r for r in reviews_of(get_kb().db, parse_target(TARGET)) if r.reviewer == "alice"]
    assert [r.status for r in mine] == ["in-review"]
    assert "Draft saved" in client.get(f"/reviews/item/{TARGET}").get_data(as_text=True)
    version = mine[0].version
    response = submit(client, version=str(version))
    following = response.headers["Location"]
    assert response.status_code == 302 and TARGET not in following and "/reviews" in following
    assert "Review submitted" in client.get(following).get_data(as_text=True)
    disputed = submit(client, target="sample-case/overdose-deaths", dispute="on")
    assert disputed.status_code == 302
    with client.application.app_context():
        from webapp.kbstore import get_kb
        statuses = {r.status for r in reviews_of(get_kb().db, parse_target("sample-case/overdose-deaths"))}
    assert statuses == {"disputed"}
    assert client.post(f"/reviews/item/{TARGET}", data={"action": "publish"}).status_code == 400


def test_free_tags_are_written_as_the_list_writes_them(client, users):
    signin(client, "alice")
    response = submit(client, free_tags="Gang Violence, police/health , ok-tag")
    with client.application.app_context():
        from webapp.kbstore import get_kb
        mine = next(r for r in reviews_of(get_kb().db, parse_target(TARGET)) if r.reviewer == "alice")
    assert mine.tags == ["gang-violence", "police-health", "ok-tag"]
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Free tag &#39;Gang Violence&#39; was saved as &#39;gang-violence&#39;" in text


def test_an_empty_tag_list_prompts_an_editor(client, users):
    signin(client, "ed")
    prompt = page_of(client.get(f"/reviews/item/{TARGET}")).select_one("fieldset .hint")
    assert "The controlled tag list is empty" in prompt.get_text() and prompt.a["href"] == "/reviews/settings"


def test_reconcile_form_is_filled_and_names_the_disagreement(client, users):
    signin(client, "alice")
    submit(client, sms_grade="2", confidence="low")
    signin(client, "bob")
    submit(client, sms_grade="4", confidence="low")
    signin(client, "ed")
    page = page_of(client.get(f"/reviews/item/{TARGET}"))
    assert page.select_one(".disagreement").get_text(strip=True) == "The submitted reviews disagree on: sms grade."
    assert "disagree" in page.select_one("label[for=rec_sms]")["class"]
    assert "Blind mode" not in page.get_text()                     # the reviewers' notice is not for editors
    client.post(f"/reviews/item/{TARGET}/reconcile", data={"sms_grade": "3", "confidence": "low", "reason": "Design is a time series."})
    page = page_of(client.get(f"/reviews/item/{TARGET}"))
    assert page.select_one("#rec_sms option[selected]")["value"] == "3"
    assert page.select_one("#rec_conf option[selected]").get_text() == "low"
    assert page.select_one("#reason").get_text() == "Design is a time series."
    assert page.select_one("#rec-h ~ form button").get_text(strip=True) == "Change the reconciled grade"


def test_refusals_say_who_may_in_plain_words(client, users):
    assert refusal(User("bob", "reviewer"), "agreement.read") == (
        "Agreement statistics are for editors and admins; you are signed in as 'bob', a reviewer")
    assert refusal(ANONYMOUS, "review.read") == "Reviews are for reviewers, editors and admins: sign in first"
    assert refusal(User("ed", "editor"), "account.manage").endswith("you are signed in as 'ed', an editor")
    signin(client, "bob")
    page = page_of(client.get("/reviews/agreement"))
    assert page.h1.get_text() == "Not for your role"
    assert page.select_one(".error-message").get_text() == (
        "Agreement statistics are for editors and admins; you are signed in as 'bob', a reviewer")


def test_a_visitor_is_offered_sign_in_and_comes_back(client, users):
    response = client.get("/reviews?theme=targeted-deterrence")
    assert response.status_code == 401
    link = page_of(response).select_one("a.signin-link")
    assert link["href"] == "/signin?next=/reviews?theme%3Dtargeted-deterrence"
    back = client.post("/signin", data={"name": "alice", "password": PASSWORD, "next": "/reviews?theme=targeted-deterrence"})
    assert back.headers["Location"] == "/reviews?theme=targeted-deterrence"


def test_history_shows_who_when_and_what_changed(client, users):
    signin(client, "alice")
    submit(client, action="draft", sms_grade="2", confidence="low")
    with client.application.app_context():
        from webapp.kbstore import get_kb
        version = next(r for r in reviews_of(get_kb().db, parse_target(TARGET)) if r.reviewer == "alice").version
    submit(client, sms_grade="4", confidence="low", version=str(version))
    signin(client, "ed")
    page = page_of(client.get(f"/reviews/item/{TARGET}/history"))
    rows = page.select("table.history tbody tr")
    assert [r.select_one("td[data-label=What]").get_text(strip=True) for r in rows] == [
        "started a review", "changed a review"]
    changes = [li.get_text(" ", strip=True) for li in rows[1].select("ul.changes li")]
    assert changes == ["sms grade : 2 → 4", "status : in-review → reviewed"]
    when = rows[0].select_one("time[data-local]")
    assert when["datetime"].startswith("20") and when.get_text().endswith("UTC")   # app.js shows local time
    assert "{" not in page.select_one("table.history").get_text()                 # no raw JSON
    assert page.h1.a["href"] == f"/reviews/item/{TARGET}"


def test_calibration_shows_each_reviewers_drift_from_the_reconciled_grade(client, users):
    signin(client, "alice")
    submit(client, sms_grade="5", confidence="low")                       # generous: +2
    submit(client, target="sample-case/overdose-deaths", sms_grade="2", confidence="low")   # strict: -1
    signin(client, "bob")
    submit(client, sms_grade="3", confidence="low")                       # on the mark
    signin(client, "ed")
    client.post(f"/reviews/item/{TARGET}/reconcile", data={"sms_grade": "3", "reason": "time series"})
    client.post("/reviews/item/sample-case/overdose-deaths/reconcile", data={"sms_grade": "3", "reason": "before-after"})
    page = page_of(client.get("/reviews/calibration"))
    rows = {r.th.get_text(strip=True): r for r in page.select("table.calibration tbody tr")}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"].select_one("td[data-label=Overall]").get_text(" ", strip=True) == "+0.50 (n 2, mean size 1.50)"
    assert rows["bob"].select_one("td[data-label=Overall]").get_text(" ", strip=True) == "+0.00 (n 1, mean size 0.00)"
    designs = rows["alice"].select_one("td[data-label='By study design']").get_text(" ", strip=True)
    assert "Quasi-experimental: +2.00" in designs and "Before and after: -1.00" in designs
    signin(client, "alice")
    assert client.get("/reviews/calibration").status_code == 403


def test_the_queue_is_grouped_by_case_searchable_and_filtered(client, users):
    signin(client, "alice")
    page = page_of(client.get("/reviews"))
    groups = {s.h3.get_text(strip=True): [li.a.get_text(strip=True) for li in s.select("li")]
              for s in page.select("section.queue-case")}
    assert groups["Ceasefire in Boston"] == ["Arrests did not change.", "Shootings fell after call-ins & meetings."]
    assert "waiting for a first or second review" in page.select_one(".lead").get_text()
    found = page_of(client.get("/reviews?q=boston"))                   # a case title matches
    assert [s.h3.get_text(strip=True) for s in found.select("section.queue-case")] == ["Ceasefire in Boston"]
    submit(client, action="draft")
    mine = page_of(client.get("/reviews?state=mine"))
    assert [li.a.get_text(strip=True) for li in mine.select("section.queue-case li")] == [
        "Shootings fell after call-ins & meetings."]
    assert "No waiting item matches." in page_of(client.get("/reviews?q=nothing-like-this")).get_text()
    for bad in ("/reviews?state=done", "/reviews?page=0", "/reviews?theme=nope", "/reviews?q=" + "x" * 201):
        assert client.get(bad).status_code == 400, bad
