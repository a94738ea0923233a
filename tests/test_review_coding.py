"""Coding questions, allocation, calibration seeds, discussion notes and GRADE certainty per
theme x outcome (issue 14, items 2, 3, 4, 7 and 8), on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json

import pytest
from test_reviews import FIRST, GRADED, Env, cheap_hashing, env  # noqa: F401  (the fixtures)

from kb.errors import KbError
from kb.reviews import assign, audit, discussion, questions
from kb.reviews.agreement import agreement
from kb.reviews.calibration import calibration
from kb.reviews.errors import ConflictError, InvalidReview
from kb.reviews.io import dumps, export_records, import_records, load_file, robvis_csv, robvis_rows
from kb.reviews.records import Target, parse_target
from kb.reviews.roles import system_actor
from kb.reviews.service import create_review, get_review, reconcile, update_review, visible_reviews, withheld
from kb.reviews.views import reconciled_certainty, review_queue
from kb.storage import make_engine, upgrade

REFERRALS = Target("first", "referrals")
OUTCOME = parse_target("@police-harm-reduction/public-health")
SCALE = questions.Question("sample-size", "Is the sample large enough?", "evidence", "single",
                           (("yes", "Yes"), ("no", "No"), ("unclear", "Unclear")), required=True)


def answered(env: Env, who: str, answers: dict, target=FIRST) -> dict:
    return create_review(env.engine, env[who], target, {**GRADED, "answers": answers}).answers


# --- questions ---------------------------------------------------------------------------------

def test_a_question_is_defined_answered_and_versioned_without_rewriting_answers(env):
    first = questions.add_question(env.engine, env["ed"], SCALE)
    assert (first.version, first.created_by) == (1, "ed")
    stored = answered(env, "alice", {"sample-size": "yes"})
    assert stored == {"sample-size": {"version": 1, "value": "yes"}}
    second = questions.edit_question(env.engine, env["ed"], "sample-size",
                                     {"label": "Is the sample large enough for the claim?"}, version=1)
    assert second.version == 2 and [q.version for q in questions.question_versions(env.engine, "sample-size")] == [1, 2]
    review = next(r for r in visible_reviews(env.engine, FIRST, env["ed"]) if r.reviewer == "alice")
    kept = update_review(env.engine, env["alice"], review.id, {"note": "same answer", "answers": {"sample-size": "yes"}},
                         review.version)
    assert kept.answers["sample-size"]["version"] == 1            # unchanged: keeps the version it was given under
    changed = update_review(env.engine, env["alice"], kept.id, {"answers": {"sample-size": "no"}}, kept.version)
    assert changed.answers["sample-size"] == {"version": 2, "value": "no"}
    with pytest.raises(ConflictError):                            # someone edited it since version 1
        questions.edit_question(env.engine, env["ed"], "sample-size", {"label": "Late"}, version=1)
    with pytest.raises(InvalidReview) as caught:
        questions.edit_question(env.engine, env["ed"], "sample-size", {"kind": "number"}, version=2)
    assert "cannot be changed" in caught.value.errors["kind"]


@pytest.mark.parametrize("answers, field, message", [
    ({"sample-size": "maybe"}, "answers.sample-size", "'maybe' is not one of: yes, no, unclear"),
    ({"nosuch": "yes"}, "answers.nosuch", "there is no question 'nosuch' for a evidence"),
    ({}, "answers.sample-size", "is required when the review is submitted"),
])
def test_bad_answers_are_refused_by_question(env, answers, field, message):
    questions.add_question(env.engine, env["ed"], SCALE)
    with pytest.raises(InvalidReview) as caught:
        create_review(env.engine, env["alice"], FIRST, {**GRADED, "answers": answers})
    assert caught.value.errors[field] == message
    draft = create_review(env.engine, env["alice"], FIRST, {"status": "in-review", "answers": {}})
    assert draft.answers == {}                                     # a draft need not answer yet


def test_question_definitions_are_checked():
    bad = questions.Question("Bad Key", "", "everything", "single", (("a", "A"),), ordinal=False)
    errors = questions.spec_errors(bad)
    assert set(errors) == {"key", "label", "scope", "choices"}
    assert questions.spec_errors(questions.Question("n", "How many?", kind="number", choices=(("a", "A"),))) == {
        "choices": "a number question has no choices"}
    assert questions.parse_choices("low = Low\nNo information\n\n") == (("low", "Low"), ("no-information", "No information"))


def test_number_and_multiple_answers(env):
    questions.add_question(env.engine, env["ed"], questions.Question("sites", "How many sites?", kind="number"))
    questions.add_question(env.engine, env["ed"], questions.Question(
        "harms", "Harms measured", kind="multiple", choices=(("violence", "Violence"), ("health", "Health"))))
    stored = answered(env, "alice", {"sites": 12, "harms": ["health", "health", "violence"]})
    assert stored["sites"]["value"] == 12 and stored["harms"]["value"] == ["health", "violence"]
    for bad in (float("nan"), True, "12"):
        with pytest.raises(InvalidReview):
            create_review(env.engine, env["bob"], FIRST, {**GRADED, "answers": {"sites": bad}})


def test_the_built_in_sets(env):
    added = questions.install_set(env.engine, env["ed"], "robins-i")
    assert [q.key for q in added] == [*(f"robins-d{n}" for n in range(1, 8)), "robins-overall"]
    assert added[0].label == "ROBINS-I D1: Bias due to confounding"
    assert added[0].choice_values == ("low", "moderate", "serious", "critical", "no-information")
    assert questions.install_set(env.engine, env["ed"], "robins-i") == []       # twice changes nothing
    grade = questions.install_set(env.engine, env["ed"], "grade")
    assert {q.scope for q in grade} == {"outcome"}
    assert grade[1].choice_values == ("risk-of-bias", "inconsistency", "indirectness", "imprecision", "publication-bias")
    with pytest.raises(KbError):
        questions.install_set(env.engine, env["ed"], "cochrane")


# --- allocation and calibration -----------------------------------------------------------------

def test_assignments_come_first_in_the_queue_and_are_idempotent(env):
    report = assign.assign(env.engine, env["ed"], ["carol"], targets=[REFERRALS])
    assert [str(a.target) for a in report.created] == ["first/referrals"]
    queue = review_queue(env.engine, env["carol"])
    assert str(queue[0].target) == "first/referrals" and queue[0].assigned
    assert not any(item.assigned for item in review_queue(env.engine, env["alice"]))
    again = assign.assign(env.engine, env["ed"], ["carol"], case="first")
    assert (len(again.created), again.skipped) == (1, 1)          # referrals was assigned already
    create_review(env.engine, env["carol"], REFERRALS, GRADED)
    assert str(review_queue(env.engine, env["carol"])[0].target) == "first/overdose-deaths"
    load = {entry.reviewer: (entry.assigned, entry.done, entry.to_do) for entry in assign.workload(env.engine, env["ed"])}
    assert load == {"carol": (2, 1, 1)}
    assert [e.action for e in audit.entries(env.engine, actor="ed") if e.action == "assign"] == ["assign", "assign"]
    assert assign.unassign(env.engine, env["ed"], FIRST, "carol") and not assign.unassign(env.engine, env["ed"], FIRST, "carol")
    assert get_review(env.engine, 1).reviewer == "carol"           # withdrawing never touches a review


def test_a_share_spreads_double_grading_evenly(env):
    report = assign.assign(env.engine, env["ed"], ["alice", "bob", "carol"], share=1.0, per_item=2, seed=7)
    by_item: dict[str, set] = {}
    for entry in report.created:
        by_item.setdefault(str(entry.target), set()).add(entry.reviewer)
    assert set(by_item) == {"first/overdose-deaths", "first/referrals", "second/overdose-deaths"}
    assert all(len(people) == 2 for people in by_item.values())
    counts = sorted(sum(1 for e in report.created if e.reviewer == r) for r in ("alice", "bob", "carol"))
    assert counts[-1] - counts[0] <= 1
    with pytest.raises(KbError, match="2 reviewer"):
        assign.assign(env.engine, env["ed"], ["alice"], share=0.5, per_item=2)
    with pytest.raises(KbError, match="not a user"):
        assign.assign(env.engine, env["ed"], ["mallory"], targets=[FIRST])
    with pytest.raises(KbError, match="reader"):
        assign.assign(env.engine, env["ed"], ["rita"], targets=[FIRST])


def test_a_calibration_item_is_blind_and_measures_drift(env):
    create_review(env.engine, env["alice"], FIRST, GRADED)
    reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 2, "confidence": "low"}, "before-after with no control")
    assert not any(str(i.target) == str(FIRST) for i in review_queue(env.engine, env["carol"]))   # reconciled: done
    assign.assign(env.engine, env["ed"], ["carol"], calibration=5, seed=1)
    seeded = next(i for i in review_queue(env.engine, env["carol"]) if str(i.target) == str(FIRST))
    assert seeded.assigned and seeded.reviews == 0                # it looks like any other assigned item
    assert withheld(env.engine, FIRST, env["carol"]) and not withheld(env.engine, FIRST, env["ed"])
    others = visible_reviews(env.engine, FIRST, env["carol"])
    assert all(r.hidden for r in others if r.reviewer != "carol")
    create_review(env.engine, env["carol"], FIRST, {**GRADED, "sms_grade": 4})
    assert not withheld(env.engine, FIRST, env["carol"])
    found = {c.reviewer: c for c in calibration(env.engine, env["ed"], {})}
    assert (found["carol"].seeded.n, found["carol"].seeded.mean) == (1, 2.0)
    assert (found["alice"].seeded.n, found["alice"].overall.mean) == (0, 1.0)


# --- discussion, agreement, reconciliation of answers ------------------------------------------

def test_a_discussion_note_reaches_reviewers_only_after_they_submit(env):
    create_review(env.engine, env["alice"], FIRST, {"status": "in-review"})
    note = discussion.set_discussion(env.engine, env["ed"], FIRST, "Is the *comparison* area comparable?", None)
    assert note.version == 1 and "<em>comparison</em>" in note.note_html
    assert discussion.discussion_for(env.engine, FIRST, env["alice"]) is None        # still a draft
    assert discussion.discussion_for(env.engine, FIRST, env["ed"]).note == note.note
    review = next(r for r in visible_reviews(env.engine, FIRST, env["alice"]) if r.reviewer == "alice")
    update_review(env.engine, env["alice"], review.id, GRADED, review.version)
    assert discussion.discussion_for(env.engine, FIRST, env["alice"]).editor == "ed"
    with pytest.raises(ConflictError):
        discussion.set_discussion(env.engine, env["ed"], FIRST, "stale", None)
    assert discussion.set_discussion(env.engine, env["ed"], FIRST, "Revised", 1).version == 2
    assert [e.action for e in audit.entries(env.engine, target=str(FIRST)) if e.action == "discussion"] == ["discussion"] * 2


def test_agreement_covers_questions_and_a_revision_after_the_reveal_changes_nothing(env):
    questions.install_set(env.engine, env["ed"], "robins-i")
    for who, first, overall in (("alice", "low", "moderate"), ("bob", "serious", "moderate")):
        answered(env, who, {"robins-d1": first, "robins-overall": overall})
        answered(env, who, {"robins-d1": "low", "robins-overall": "serious"}, target=REFERRALS)
    before = agreement(env.engine, env["ed"])
    assert set(before.questions) == {"robins-d1", "robins-overall"}
    assert before.questions["robins-d1"].percent == 0.5 and before.questions["robins-overall"].percent == 1.0
    assert before.questions["robins-d1"].weighted_kappa is not None            # ordinal: weighted too
    assert [(d.target, d.field) for d in before.open] == [("first/overdose-deaths", "answers.robins-d1")]
    bob = next(r for r in visible_reviews(env.engine, FIRST, env["ed"]) if r.reviewer == "bob")
    update_review(env.engine, env["bob"], bob.id, {"answers": {"robins-d1": "low", "robins-overall": "moderate"}},
                  bob.version)
    after = agreement(env.engine, env["ed"])
    assert after.questions["robins-d1"].percent == 0.5                        # first submissions count
    assert any(r["reviewer"] == "bob" and r["independent"]["answers.robins-d1"] == "serious" for r in after.revised)
    reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 3, "answers": {"robins-d1": "moderate",
                                                                          "robins-overall": "moderate"}}, "agreed")
    settled = agreement(env.engine, env["ed"])
    assert settled.open == [] and [d.field for d in settled.settled] == ["answers.robins-d1"]
    rows = robvis_rows(env.engine, env["ed"])
    assert rows == [{"Study": "Sample case of police and harm reduction: overdose-deaths", "D1": "Moderate", "D2": "", "D3": "", "D4": "", "D5": "",
                     "D6": "", "D7": "", "Overall": "Moderate", "Weight": 1}]
    table = list(csv.reader(io.StringIO(robvis_csv(rows))))
    assert table[0] == ["Study", "D1", "D2", "D3", "D4", "D5", "D6", "D7", "Overall", "Weight"]


def test_a_theme_outcome_is_rated_for_grade_certainty(env):
    questions.install_set(env.engine, env["ed"], "grade")
    assert OUTCOME.scope == "outcome" and OUTCOME.theme == "police-harm-reduction"
    with pytest.raises(KbError):
        create_review(env.engine, env["alice"], parse_target("@police-harm-reduction/no-such-outcome"),
                      {"status": "reviewed", "answers": {"grade-certainty": "low"}})
    with pytest.raises(InvalidReview) as caught:          # GRADE's certainty is required; the SMS grade is not
        create_review(env.engine, env["alice"], OUTCOME, {"status": "reviewed"})
    assert set(caught.value.errors) == {"answers.grade-certainty"}
    create_review(env.engine, env["alice"], OUTCOME, {"status": "reviewed", "answers": {
        "grade-certainty": "low", "grade-downgrades": ["risk-of-bias", "imprecision"]}})
    queue = review_queue(env.engine, env["bob"], outcomes=("public-health",))
    assert any(str(i.target) == str(OUTCOME) for i in queue)
    reconcile(env.engine, env["ed"], OUTCOME, {"answers": {"grade-certainty": "low",
                                                           "grade-downgrades": ["risk-of-bias"]}}, "one before-after")
    assert reconciled_certainty(env.engine, "police-harm-reduction") == {"public-health": ("low", ("risk-of-bias",))}


def test_questions_and_answers_round_trip_through_both_formats(env, tmp_path, db_url):
    questions.install_set(env.engine, env["ed"], "robins-i")
    questions.install_set(env.engine, env["ed"], "grade")
    questions.edit_question(env.engine, env["ed"], "robins-d2", {"help": "Selection, reworded"}, version=1)
    answered(env, "alice", {"robins-d1": "low", "robins-d2": "serious"})
    create_review(env.engine, env["alice"], OUTCOME, {"status": "reviewed", "answers": {"grade-certainty": "moderate"}})
    reconcile(env.engine, env["ed"], OUTCOME, {"answers": {"grade-certainty": "moderate"}}, "agreed")
    exported = export_records(env.engine)
    assert sum(1 for r in exported if r["record"] == "question") == 11     # every version, 8 + 2 + 1
    for fmt in ("json", "csv"):
        path = tmp_path / f"reviews.{fmt}"
        path.write_text(dumps(exported, fmt), encoding="utf-8", newline="")
        empty = make_engine(f"sqlite:///{tmp_path / f'empty-{fmt}.sqlite3'}")
        upgrade(empty)
        report = import_records(empty, system_actor(), load_file(path))
        assert export_records(empty) == exported, fmt
        assert import_records(empty, system_actor(), load_file(path)).unchanged == report.created + report.updated
        empty.dispose()


def test_an_import_with_unknown_or_changed_questions_is_refused_whole(env, tmp_path):
    questions.add_question(env.engine, env["ed"], SCALE)
    answered(env, "alice", {"sample-size": "yes"})
    records = export_records(env.engine)
    question = next(r for r in records if r["record"] == "question")
    review = next(r for r in records if r["record"] == "review")
    bad = [{**question, "label": "Rewritten"}, {**review, "version": review["version"] + 1,
                                                 "answers": {"sample-size": {"version": 9, "value": "yes"}}}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "kb-reviews", "version": 3, "records": bad}), encoding="utf-8")
    with pytest.raises(Exception) as caught:
        import_records(env.engine, env["ed"], load_file(path))
    problems = "\n".join(caught.value.problems)
    assert "question 'sample-size' version 1 differs" in problems
    assert "there is no version 9 of question 'sample-size'" in problems
    assert export_records(env.engine) == records                           # nothing was written


def test_a_number_question_is_compared_by_difference_not_kappa(env):
    questions.add_question(env.engine, env["ed"], questions.Question("sites", "How many sites?", kind="number"))
    answered(env, "alice", {"sites": 10})
    answered(env, "bob", {"sites": 13})
    found = agreement(env.engine, env["ed"]).questions["sites"]
    assert (found.percent, found.kappa, found.mean_absolute_difference) == (0.0, None, 3)


def test_a_review_of_a_theme_outcome_is_no_orphan_while_the_theme_has_evidence_on_it(env):
    from kb.reviews.orphans import orphaned_reviews
    questions.install_set(env.engine, env["ed"], "grade")
    create_review(env.engine, env["alice"], OUTCOME, {"status": "reviewed", "answers": {"grade-certainty": "low"}})
    assert orphaned_reviews(env.engine) == []
    with env.engine.begin() as conn:      # as if the build no longer had that outcome in the theme
        conn.exec_driver_sql("UPDATE evidence_items SET outcome = 'violence' WHERE outcome = 'public-health'")
    assert [str(r.target) for r in orphaned_reviews(env.engine)] == [str(OUTCOME)]
