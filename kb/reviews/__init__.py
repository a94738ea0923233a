"""Reviewer workflow: accounts, reviews of evidence items and cases, agreement, audit trail.

Reviews are the most expensive data in the system, so they live in their own tables keyed by the
stable case and evidence ids (a build never touches them), every change is written in one
transaction with its audit entry, and nothing here ever deletes a review.

Modules: `vocab` (every field, choice, role, permission and setting, declared once), `tables`
(schema and transaction helpers), `roles` (who acts, permission checks), `accounts` (users and
passwords), `records` (domain objects and field validation), `service` (reviews, blind mode,
reconciliation; re-exports `views` (queue, to-do list, public view), `taglist` and `settings`),
`notes` (Markdown notes to safe HTML), `questions` (coding questions and their answers, with the
ROBINS-I and GRADE sets), `assign` (allocation and calibration seeds), `discussion` (editors' notes
on disputed items), `agreement`, `calibration`, `audit`, `io` (export/import, robvis), `orphans`
(reviews whose item is gone; following `former_ids`), `backup`, `errors`.
"""
from __future__ import annotations

import importlib

# The package's public names, for the web and other callers: `from kb.reviews import create_review`.
# Resolved on first use (PEP 562), so importing one module of the package loads no other. A name
# that is also a module's (agreement) is exported under another name: once the module is imported,
# the package attribute is the module.
EXPORTS = {
    "ConflictError": "errors", "InvalidReview": "errors", "PermissionDenied": "errors",
    "orphaned_reviews": "orphans", "parse_target": "records", "ANONYMOUS": "roles", "require": "roles",
    "create_review": "service", "get_reconciliation": "service", "independent_grades_of": "service",
    "reconcile": "service", "update_review": "service", "visible_reviews": "service",
    "blind_mode": "settings", "set_setting": "settings", "add_tag": "taglist", "list_tags": "taglist", "normalised_tag": "taglist",
    "review_queue": "views", "todo_list": "views", "public_view": "views", "review_state_by_case": "views",
    "PUBLIC_REVIEW_STATES": "views", "REVIEW_STATES": "views",
    "CONFIDENCE": "vocab", "RELEVANCE": "vocab", "SMS_GRADES": "vocab", "STATUSES": "vocab", "RUBRIC": "vocab",
    "get_user": "accounts", "verify": "accounts", "end_sessions": "accounts",
    "Question": "questions", "QUESTION_SETS": "questions", "list_questions": "questions", "add_question": "questions",
    "edit_question": "questions", "install_set": "questions", "parse_choices": "questions",
    "versions_by_key": "questions", "answer_views": "questions", "get_question": "questions", "question_versions": "questions", "list_users": "accounts",
    "unassign": "assign", "assignments": "assign", "workload": "assign",
    "discussion_for": "discussion", "set_discussion": "discussion", "withheld": "service",
    "ASSIGNMENT_KINDS": "vocab", "SCOPES": "vocab", "QUESTION_KINDS": "vocab",
}
ALIASES = {"review_agreement": ("agreement", "agreement"), "audit_history": ("audit", "history"),
           "HISTORY_ACTIONS": ("audit", "ACTION_WORDS"), "reviewer_calibration": ("calibration", "calibration"),
           "SigninLimit": ("throttle", "Limit"), "reserve_signin": ("throttle", "reserve"),
           "release_signin": ("throttle", "release"), "assign_items": ("assign", "assign")}


def __getattr__(name: str):
    if name not in EXPORTS and name not in ALIASES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = ALIASES.get(name) or (EXPORTS[name], name)
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value
