"""Every review field, choice, role, permission and setting, declared once as data.

The service validates against these, the importer reports problems with them, the agreement
statistics know which fields are ordinal, and the docs and web forms read the help texts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 12
MAX_NOTE = 20_000
MAX_TAGS = 30       # tags on one review
MAX_REASON = 5_000

ROLES = ("reader", "reviewer", "editor", "admin")
ROLE_HELP = {
    "reader": "Reads the public view: reconciled grades and public tags. Anonymous visitors are readers.",
    "reviewer": "Also tags and grades evidence items and cases, and sees other reviewers' work (blind mode permitting).",
    "editor": "Also reconciles grades, manages the controlled tag list and settings, sees history and agreement.",
    "admin": "Also manages accounts.",
}

# role x action -> allowed. Roles are cumulative: each row lists what a role adds to the one before.
ROLE_ADDS = {
    "reader": frozenset(),
    "reviewer": frozenset({"review.read", "review.write"}),
    "editor": frozenset({"review.reconcile", "review.history", "review.export", "review.import",
                         "agreement.read", "tag.manage", "setting.change", "review.assign", "question.manage"}),
    "admin": frozenset({"account.manage"}),
}
ACTIONS = tuple(sorted(set().union(*ROLE_ADDS.values())))
# each action in plain words, for the message of a refusal ("Agreement statistics are for editors
# and admins")
ACTION_WORDS = {
    "review.read": "Reviews are", "review.write": "Grading evidence is", "review.reconcile": "Reconciling grades is",
    "review.history": "The history of reviews is", "review.export": "Exporting reviews is",
    "review.import": "Importing reviews is", "agreement.read": "Agreement statistics are",
    "tag.manage": "Managing the tag list is", "setting.change": "Changing review settings is",
    "account.manage": "Managing accounts is", "review.assign": "Assigning items to reviewers is",
    "question.manage": "Defining coding questions is",
}


def allowed_actions(role: str) -> frozenset[str]:
    """Everything `role` may do: its own additions plus those of every lower role."""
    if role not in ROLES:
        return frozenset()
    granted: set[str] = set()
    for name in ROLES[: ROLES.index(role) + 1]:
        granted |= ROLE_ADDS[name]
    return frozenset(granted)


def roles_allowed(action: str) -> tuple[str, ...]:
    """The roles that may do `action`, lowest first."""
    return tuple(role for role in ROLES if action in allowed_actions(role))


STATUSES = ("unreviewed", "in-review", "reviewed", "disputed", "reconciled")
SUBMITTED = ("reviewed", "disputed", "reconciled")  # a review that counts: it has a grade and was handed in
OPEN = ("unreviewed", "in-review", "disputed")       # what a reviewer's to-do list shows
CONFIDENCE = ("high", "moderate", "low", "very-low")
RELEVANCE = ("high", "moderate", "low", "none")
SMS_GRADES = (1, 2, 3, 4, 5)
# what each choice means, beside the controls of the review form: the Maryland Scientific Methods
# Scale's levels, GRADE's four levels of certainty, and relevance to the theme
RUBRIC = {
    "sms_grade": {
        1: "Correlation between the intervention and the outcome at one point in time.",
        2: "The outcome measured before and after, with no comparable control (or a comparison with no before).",
        3: "Before and after, in the intervention and in a comparable control condition.",
        4: "Before and after in several intervention and control units, controlling for other influences.",
        5: "Units randomly assigned to the intervention and to control.",
    },
    "confidence": {
        "high": "Very confident that the true effect lies close to the claim's.",
        "moderate": "Moderately confident: the true effect is likely close, but may be substantially different.",
        "low": "Limited confidence: the true effect may be substantially different.",
        "very-low": "Very little confidence: the true effect is likely to be substantially different.",
    },
    "relevance": {
        "high": "The claim answers the theme's central question.",
        "moderate": "It bears on the theme, indirectly or in part.",
        "low": "It touches the theme only at its edge.",
        "none": "It is not evidence on the theme.",
    },
}


@dataclass(frozen=True)
class ReviewField:
    name: str
    kind: str  # grade | choice | tags | text
    choices: tuple = ()
    ordinal: bool = False
    help: str = ""


REVIEW_FIELDS: tuple[ReviewField, ...] = (
    ReviewField("sms_grade", "grade", SMS_GRADES, True,
                "Maryland Scientific Methods Scale, 1 (correlation) to 5 (randomised), of the evidence behind the claim."),
    ReviewField("confidence", "choice", CONFIDENCE, False, "Confidence in the claim: high, moderate, low or very-low."),
    ReviewField("relevance", "choice", RELEVANCE, False, "Relevance to the theme: high, moderate, low or none."),
    ReviewField("tags", "tags",
                help="Tags from the controlled list, plus free tags; each [a-z0-9][a-z0-9-]*, at most 64 characters; "
                     "at most 30 tags."),
    ReviewField("status", "choice", STATUSES,
                help="unreviewed, in-review, reviewed, disputed; reconciled is set by an editor."),
    ReviewField("note", "text", help="Markdown for other reviewers and editors; never public. Rendered and sanitised."),
)
FIELDS = {f.name: f for f in REVIEW_FIELDS}
# `answers`: the coding questions' answers (kb.reviews.questions), {key: value} on the way in
VALUE_FIELDS = (*FIELDS, "answers")
GRADED_FIELDS = ("sms_grade", "confidence", "relevance")  # the fields agreement is computed on


@dataclass(frozen=True)
class Setting:
    name: str
    default: bool
    help: str


SETTINGS: dict[str, Setting] = {
    "blind_mode": Setting("blind_mode", True,
                          "Reviewers do not see other reviewers' grades of an item until they have submitted their own."),
}


# How an item came to a reviewer: one item, a whole case, a theme, a random share of items for
# double grading, or a calibration item (already reconciled; the reviewer is not told).
ASSIGNMENT_KINDS = ("single", "case", "theme", "share", "calibration")
# what a review or question is about: an evidence item, a whole case, or a theme's outcome (the
# unit of a GRADE certainty rating, written `@theme/outcome`)
SCOPES = ("evidence", "case", "outcome")
QUESTION_KINDS = ("single", "multiple", "number", "text")
MAX_QUESTIONS = 200      # current questions of a knowledge base
MAX_CHOICES = 30
MAX_ANSWER_TEXT = 5_000
