"""Reviewer workflow: accounts, reviews of evidence items and cases, agreement, audit trail.

Reviews are the most expensive data in the system, so they live in their own tables keyed by the
stable case and evidence ids (a build never touches them), every change is written in one
transaction with its audit entry, and nothing here ever deletes a review.

Modules: `vocab` (every field, choice, role, permission and setting, declared once), `tables`
(schema and transaction helpers), `roles` (who acts, permission checks), `accounts` (users and
passwords), `records` (domain objects and field validation), `service` (reviews, blind mode,
reconciliation; re-exports `views` (queue, to-do list, public view), `taglist` and `settings`),
`notes` (Markdown notes to safe HTML), `agreement`, `audit`, `io` (export/import), `orphans`
(reviews whose item is gone; following `former_ids`), `backup`, `errors`.
"""
