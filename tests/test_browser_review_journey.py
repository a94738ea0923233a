"""A review team's journey in real Chromium, with CSRF on (issue 14, "Done when"): an editor
defines a coding question and assigns an item to two reviewers; each submits blind; one revises
after the reveal (a revision: agreement unchanged); the editor sees the open disagreement,
reconciles it with a reason and it leaves the open list; the history shows the diff; the
calibration page lists both reviewers. Then the new pages go through axe-core at phone width."""
from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from browser_helpers import PASSWORD, assert_no_horizontal_scroll, axe_script, axe_violations, viewer_page

from kb.reviews import accounts, questions
from kb.reviews.roles import system_actor

ITEM = "second-case/shootings"
TEAM = {"ed": "editor", "alice": "reviewer", "bob": "reviewer"}


@pytest.fixture
def team(app, monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    from webapp.kbstore import get_kb
    with app.app_context():
        for name, role in TEAM.items():
            accounts.add_user(get_kb().engine, system_actor(), name, role, PASSWORD)
    return TEAM


def as_user(browser, server, name: str):
    return viewer_page(browser, server, name, 1280)


def submit_review(page, grade: str, certainty: str, answer: str) -> None:
    page.goto(f"/reviews/item/{ITEM}")
    assert "Assigned to you by ed" in page.locator("main").inner_text()
    assert page.locator("text=hidden until you submit yours").count() in (0, 1)
    page.locator(f"label[for=sms_grade-{grade}]").click()
    page.locator(f"label[for=confidence-{certainty}]").click()
    page.get_by_label(answer.capitalize(), exact=True).check()
    page.get_by_role("button", name="Submit review").click()
    page.wait_for_load_state("load")
    assert "Review submitted" in page.locator(".flash").first.inner_text()


def test_a_review_team_from_question_to_reconciliation(browser, server, team):
    editor = as_user(browser, server, "ed")
    editor.goto("/reviews/questions")
    editor.fill("#key", "comparison")
    editor.fill("#label", "Is the comparison group comparable?")
    editor.select_option("#scope", "evidence")
    editor.select_option("#kind", "single")
    editor.fill("#choices", "yes = Yes\nno = No\nunclear = Unclear")
    editor.get_by_label("Required to submit a review").check()
    editor.get_by_role("button", name="Add the question").click()
    editor.wait_for_load_state("load")
    assert "Question 'comparison' added" in editor.locator(".flash").first.inner_text()

    editor.goto("/reviews/assign")
    editor.get_by_label("alice").check()
    editor.get_by_label("bob").check()
    editor.get_by_role("radio", name="These items").check()
    editor.fill("#targets", ITEM)
    editor.get_by_role("button", name="Assign").click()
    editor.wait_for_load_state("load")
    assert "2 assignment(s) made" in editor.locator(".flash").first.inner_text()

    alice = as_user(browser, server, "alice")
    assert "1 item assigned to you still to do" in alice.locator(".lead").inner_text()
    first = alice.locator("section.queue-case li").first
    assert "assigned to you" in first.inner_text()
    submit_review(alice, "4", "high", "yes")

    bob = as_user(browser, server, "bob")
    bob.goto(f"/reviews/item/{ITEM}")
    assert "hidden until you submit yours" in bob.locator("main").inner_text()       # blind: alice's grade unseen
    submit_review(bob, "2", "low", "no")
    bob.goto(f"/reviews/item/{ITEM}")
    assert "alice" in bob.locator("table").last.inner_text()                         # revealed after submitting

    # bob revises after the reveal: recorded as a revision; agreement still uses his first grade
    bob.locator("label[for=sms_grade-4]").click()
    bob.get_by_role("button", name="Submit review").click()
    bob.wait_for_load_state("load")
    editor.goto("/reviews/agreement")
    assert editor.locator("#open-h").inner_text() == "Open disagreements (3)"       # SMS, certainty, the question
    open_list = editor.locator("#open-h + ul").inner_text()
    assert "SMS grade: alice 4, bob 2" in open_list and "Is the comparison group comparable?" in open_list
    assert "bob" in editor.locator("text=Grades revised after the reveal >> xpath=following::ul[1]").inner_text()

    editor.locator("#open-h + ul a.button").first.click()
    editor.wait_for_url(re.compile(r"#rec-h$"))
    assert "disagree on" in editor.locator(".disagreement").inner_text()
    editor.select_option("#rec_sms", "3")
    editor.locator("label[for=rec-q-comparison-unclear]").click()
    editor.fill("#reason", "Quasi-experimental with a comparison group of other districts")
    editor.get_by_role("button", name="Record reconciled grade").click()
    editor.wait_for_load_state("load")
    editor.goto("/reviews/agreement")
    assert editor.locator("#open-h").inner_text() == "Open disagreements (0)"
    assert "Reconciled since (3)" in editor.locator("main").inner_text()

    editor.goto(f"/reviews/item/{ITEM}/history")
    history = editor.locator("main").inner_text()
    assert "reconciled the grades" in history and "sms grade" in history.lower() and "2 → 4" in history

    editor.goto("/reviews/calibration")
    rows = editor.locator("table.calibration tbody th").all_inner_texts()
    assert rows == ["alice", "bob"]
    for context in (alice.context, bob.context, editor.context):
        context.close()


@pytest.mark.parametrize("url", ["/reviews/questions", "/reviews/assign", "/reviews/calibration", f"/reviews/item/{ITEM}",
                                 "/reviews/item/@targeted-deterrence/violence"])
def test_the_editors_pages_pass_axe_and_fit_a_phone(browser, server, team, app, url):
    axe_script()
    from webapp.kbstore import get_kb
    with app.app_context():                    # the built-in sets: the forms then carry their questions
        for name in ("robins-i", "grade"):
            questions.install_set(get_kb().engine, system_actor(), name)
    page = viewer_page(browser, server, "ed", 360)
    page.goto(url)
    assert_no_horizontal_scroll(page)
    assert axe_violations(page) == []
    page.context.close()
