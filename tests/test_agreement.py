"""Agreement statistics against values computed by hand, and `kb reviews agreement`."""
from __future__ import annotations

import json

import pytest
from test_reviews import cheap_hashing, env  # noqa: F401  (fixtures)

from kb.cli import main
from kb.reviews.agreement import agreement, cohen_kappa, percent_agreement, weighted_kappa
from kb.reviews.service import create_review

NOMINAL = [("high", "high")] * 4 + [("high", "low")] + [("low", "high")] * 2 + [("low", "low")] * 3
ORDINAL = [(1, 1), (2, 3), (3, 3), (4, 2), (5, 5)]


def test_cohen_kappa_by_hand():
    """10 items, two raters, two categories:

                 B high  B low
        A high      4      1     A: high 5, low 5
        A low       2      3     B: high 6, low 4

    p_o = (4 + 3) / 10 = 0.7;  p_e = (5*6 + 5*4) / 100 = 0.5;  kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    """
    assert percent_agreement(NOMINAL) == pytest.approx(0.7)
    assert cohen_kappa(NOMINAL) == pytest.approx(0.4)


def test_unweighted_kappa_of_grades_by_hand():
    """Pairs (1,1) (2,3) (3,3) (4,2) (5,5). p_o = 3/5 = 0.6. A rates each grade once (1/5 each);
    B: 1 once, 2 once, 3 twice, 5 once. p_e = (1*1 + 1*1 + 1*2 + 1*0 + 1*1) / 25 = 0.2;
    kappa = (0.6 - 0.2) / 0.8 = 0.5."""
    assert cohen_kappa(ORDINAL) == pytest.approx(0.5)


def test_linear_weighted_kappa_by_hand():
    """k = 5 grades, w_ij = 1 - |i-j|/4. Weights of the pairs: 1, 0.75, 1, 0.5, 1, so
    p_o(w) = 4.25 / 5 = 0.85. A's marginals are 0.2 each, so p_e(w) = 0.2 * sum_j p_B(j) * S_j with
    S_j = sum_i w_ij the column sums of the weights: S = 2.5, 3.25, 3.5, 3.25, 2.5.
    sum_j p_B(j) S_j = 0.2*2.5 + 0.2*3.25 + 0.4*3.5 + 0*3.25 + 0.2*2.5 = 3.05; p_e(w) = 0.61.
    kappa_w = (0.85 - 0.61) / (1 - 0.61) = 0.24 / 0.39 = 8/13 = 0.6154."""
    assert weighted_kappa(ORDINAL) == pytest.approx(8 / 13)


def test_quadratic_weighted_kappa_by_hand():
    """w_ij = 1 - (i-j)^2/16. Pair weights: 1, 15/16, 1, 12/16, 1, so p_o(w) = 4.6875 / 5 = 0.9375.
    Column sums S_j = 50/16, 65/16, 70/16, 65/16, 50/16 = 3.125, 4.0625, 4.375, 4.0625, 3.125.
    sum_j p_B(j) S_j = 0.2*3.125 + 0.2*4.0625 + 0.4*4.375 + 0.2*3.125 = 3.8125; p_e(w) = 0.7625.
    kappa_w = (0.9375 - 0.7625) / (1 - 0.7625) = 0.175 / 0.2375 = 14/19 = 0.7368."""
    assert weighted_kappa(ORDINAL, weights="quadratic") == pytest.approx(14 / 19)


def test_edge_cases():
    assert cohen_kappa([]) is None and weighted_kappa([]) is None and percent_agreement([]) is None
    assert cohen_kappa([(3, 3), (3, 3)]) is None  # p_e = 1: chance explains everything, kappa undefined
    assert cohen_kappa([(1, 1), (2, 2)]) == 1.0 and weighted_kappa([(1, 1), (5, 5)]) == 1.0
    assert cohen_kappa([(1, 2), (2, 1)]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        weighted_kappa(ORDINAL, weights="cubic")


def grade(env, who: str, target: str, sms: int, confidence: str, status: str = "reviewed") -> None:
    create_review(env.engine, env[who], target, {"sms_grade": sms, "confidence": confidence, "relevance": "high",
                                                  "status": status})


@pytest.fixture
def graded(env):  # noqa: F811
    """first/* are police-harm-reduction, second/* tolerated-cannabis-markets. Carol's draft of
    second/overdose-deaths is not submitted, so it does not count."""
    for who, sms, conf in (("alice", 3, "moderate"), ("bob", 3, "moderate"), ("carol", 4, "low")):
        grade(env, who, "first/overdose-deaths", sms, conf)
    grade(env, "alice", "first/referrals", 2, "high")
    grade(env, "bob", "first/referrals", 3, "high")
    grade(env, "alice", "second/overdose-deaths", 5, "high")
    grade(env, "bob", "second/overdose-deaths", 5, "high")
    grade(env, "carol", "second/overdose-deaths", 1, "low", status="in-review")
    return env


def test_agreement_overall_and_per_theme(graded):
    """SMS grades by pair. alice/bob: (3,3) (2,3) (5,5): 2/3 agree; p_e = (1*2 + 1*1)/9 = 1/3, so
    kappa = (2/3 - 1/3)/(2/3) = 0.5. Linear weights 1, 0.75, 1: p_o(w) = 2.75/3; p_e(w) = (0.75*2 +
    0.25*1 + 1*2 + 0.5*1 + 0.5*2 + 1*1)/9 = 6.25/9; kappa_w = (2/9)/(2.75/9) = 8/11.
    alice/carol and bob/carol: one item (3,4): p_o = 0 = p_e, kappa 0; p_o(w) = 0.75 = p_e(w), kappa_w 0.
    Light's kappa = (0.5 + 0 + 0)/3 = 1/6; weighted (8/11)/3 = 8/33; pooled agreement 2 of 5.
    Theme police-harm-reduction: alice/bob (3,3) (2,3): p_o = 0.5, p_e = 2/4 = 0.5, kappa 0; with the
    two carol pairs (3,4), kappa 0 each: 1 agreement in 4 comparisons, Light's kappa 0.
    Theme tolerated-cannabis-markets: (5,5) only: p_e = 1, kappa undefined."""
    report = agreement(graded.engine, graded["ed"])
    sms = report.overall["sms_grade"]
    assert (sms.items, sms.comparisons, sms.percent) == (3, 5, pytest.approx(0.4))
    assert [(p.reviewers, p.items, p.kappa, p.weighted_kappa) for p in sms.pairs] == [
        (("alice", "bob"), 3, pytest.approx(0.5), pytest.approx(8 / 11)),
        (("alice", "carol"), 1, 0.0, 0.0), (("bob", "carol"), 1, 0.0, 0.0)]
    assert sms.kappa == pytest.approx(1 / 6) and sms.weighted_kappa == pytest.approx(8 / 33)
    assert report.overall["confidence"].weighted_kappa is None
    assert report.overall["relevance"].percent == 1.0
    police = report.themes["police-harm-reduction"]["sms_grade"]
    assert (police.items, police.comparisons, police.percent, police.kappa) == (2, 4, 0.25, 0.0)
    cannabis = report.themes["tolerated-cannabis-markets"]["sms_grade"]
    assert (cannabis.items, cannabis.percent, cannabis.kappa) == (1, 1.0, None)
    assert [(d.target, d.field, d.values) for d in report.disagreements] == [
        ("first/overdose-deaths", "sms_grade", {"alice": 3, "bob": 3, "carol": 4}),
        ("first/overdose-deaths", "confidence", {"alice": "moderate", "bob": "moderate", "carol": "low"}),
        ("first/referrals", "sms_grade", {"alice": 2, "bob": 3})]


def test_agreement_for_one_theme(graded):
    report = agreement(graded.engine, graded["ed"], theme="tolerated-cannabis-markets", weights="quadratic")
    assert list(report.themes) == ["tolerated-cannabis-markets"] and report.weights == "quadratic"
    assert report.overall["sms_grade"].comparisons == 1 and report.disagreements == []


def test_agreement_cli(graded, runner):
    root = ["--root", str(graded.root)]
    result = runner.invoke(main, [*root, "reviews", "agreement", "--format", "json"])
    assert result.exit_code == 0
    expected = json.loads(json.dumps(agreement(graded.engine, graded["ed"]).to_dict()))
    assert json.loads(result.output) == expected
    text = runner.invoke(main, [*root, "reviews", "agreement"]).output
    assert "  sms_grade: 3 item(s), 5 comparison(s), agreement 40.0%, kappa 0.17, weighted kappa (linear) 0.24" in text
    assert "    alice / bob: 3 item(s), 66.7%, kappa 0.50, weighted 0.73" in text
    assert "  first/referrals sms_grade: alice 2, bob 3" in text
    bad = runner.invoke(main, [*root, "reviews", "agreement", "--theme", "cannabis"])
    assert bad.exit_code == 2 and "unknown theme 'cannabis'; choose from: police-harm-reduction," in bad.output
