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
                         "agreement.read", "tag.manage", "setting.change"}),
    "admin": frozenset({"account.manage"}),
}
ACTIONS = tuple(sorted(set().union(*ROLE_ADDS.values())))


def allowed_actions(role: str) -> frozenset[str]:
    """Everything `role` may do: its own additions plus those of every lower role."""
    if role not in ROLES:
        return frozenset()
    granted: set[str] = set()
    for name in ROLES[: ROLES.index(role) + 1]:
        granted |= ROLE_ADDS[name]
    return frozenset(granted)


STATUSES = ("unreviewed", "in-review", "reviewed", "disputed", "reconciled")
SUBMITTED = ("reviewed", "disputed", "reconciled")  # a review that counts: it has a grade and was handed in
OPEN = ("unreviewed", "in-review", "disputed")       # what a reviewer's to-do list shows
CONFIDENCE = ("high", "moderate", "low", "very-low")
RELEVANCE = ("high", "moderate", "low", "none")
SMS_GRADES = (1, 2, 3, 4, 5)


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
