"""The review loop's service: the one place the console pages (``core_api/console``), the JSON
API and the CLI go through to read the queue and decide cases.

Contract (plain functions over a SQLAlchemy ``Session``; every name below is exported here):

- Who: ``roles_of(db, user_id)``; ``is_analyst`` (``analyst``, ``senior_analyst`` or ``admin``)
  may read the queue and decide; ``can_reverse`` (``senior_analyst`` or ``admin``) may also
  reverse. Every function that reads or writes cases takes ``analyst_id`` and raises
  ``ReviewError`` itself when that user may not: callers cannot forget the check.
- Errors: ``ReviewError(code, status)``; ``status`` is the HTTP status a page should answer
  (403 not staff / own account, 404 no such case or decision, 409 state conflict, 422 bad
  input); ``code`` a stable snake_case reason.
- Writes commit their own transaction (``decide`` must commit before it touches the online
  store) and return fresh values, never live ORM rows.
- Times are aware UTC; ``now`` keyword arguments exist for tests and simulations.

Functions: ``sync_cases`` (open or refresh cases from score flags and from the core database's open
reports, chargebacks and appeals), ``open_case`` (see Cases opened by hand), ``queue`` (filters, a
sort, an opaque keyset cursor), ``get_case``, ``claim``, ``assign``, ``decide`` (confirm / clear /
escalate / request_info), ``decide_many`` (the same verdict on several cases at once, all or none:
a ring), ``reverse`` (seniors only), ``history`` (the audit log of a case or a user), ``metrics``,
``add_note`` and ``notes`` (see Notes below).

Decisions. ``confirm`` bans the user through the admin status-change path (audit row and
ACCOUNT_STATUS_CHANGED event), logs the decision, emits REVIEW_DECISION (``confirmed_fraud``)
through the outbox in the same transaction, then sets the online store's per-user override to
``deny`` so the very next access decision denies, whatever the published scores say.
``clear`` emits ``cleared`` (a negative label as of the decision time) and the user gets no new
case from any source until evidence newer than the decision arrives; clearing an appeal grants
it (a suspended or banned account is reinstated, the override lifted). ``escalate`` emits
``escalated`` and leaves the case in the queue (status ``escalated``); ``request_info`` puts it
in ``info_requested`` and emits REVIEW_INFO_REQUESTED (``case_id``, ``reason_code``) in the same
transaction: a workflow step, not a verdict, so its own event type (additive under the
contract's versioning rule; a fourth REVIEW_DECISION ``decision`` value would change a type)
and never a label. Confirming also
closes the user's other undecided cases (an appeal excepted) with the same verdict.
``reverse`` (of a confirm or a clear only) logs a ``reverse`` row naming the decision: a reversed
confirm becomes a clear from then on (account reinstated, override lifted, REVIEW_DECISION
``cleared`` with ``reversed: true``); a reversed clear withdraws the negative label and puts
the case back in the queue as ``escalated`` (REVIEW_DECISION ``escalated``, ``reversed``).
Analysts never act on their own account (403 ``own_account``), and a case someone else claimed
is theirs to decide (409 ``claimed_by_another``; ``assign`` hands it over).

Notes. ``add_note(db, case_id, analyst_id=, body=)`` appends a note to a case at any time, with no
decision (a decided case, or one another analyst claimed, included): the same rules as decisions
(403 ``analyst_required`` / ``own_account``, 404 ``no_such_case``, 422 ``bad_note`` for a body
empty once trimmed, over 2,000 characters or holding NUL). Notes are append-only
(``review_notes``), emit no event and are never labels. ``notes(db, analyst_id=, case_id= |
user_id=)`` lists them oldest first.

Cases opened by hand. ``open_case(db, user_id, analyst_id=, note=, store=)`` opens a case of
source ``analyst`` on a user who has no undecided case (a linked account seen in the graph):
claimed by that analyst, risk, band and reasons from the online store's published scores, amount
at stake the user's balances, ``note`` (why) kept as the case's first note. Then the usual
decisions apply. 404 ``no_such_user``, 403 ``own_account``, 409 ``case_open`` (decide that one).
A standing clear does not hold it back: the analyst's judgement is the new evidence.
"""

from __future__ import annotations

from core_api.services.review_cases import (
    Flag,
    SyncResult,
    open_case,
    sync_cases,
)
from core_api.services.review_common import (
    ANALYST_ROLES,
    DECISION_ACTIONS,
    REVERSER_ROLES,
    SORTS,
    CaseView,
    DecisionView,
    ReviewError,
    can_reverse,
    is_analyst,
    roles_of,
)
from core_api.services.review_decide import decide, decide_many
from core_api.services.review_metrics import Metrics, metrics
from core_api.services.review_notes import NoteView, add_note, notes
from core_api.services.review_queue import (
    Page,
    QueueFilter,
    assign,
    claim,
    get_case,
    history,
    queue,
)
from core_api.services.review_reverse import reverse

__all__ = [
    "ANALYST_ROLES",
    "DECISION_ACTIONS",
    "REVERSER_ROLES",
    "SORTS",
    "CaseView",
    "DecisionView",
    "Flag",
    "Metrics",
    "NoteView",
    "Page",
    "QueueFilter",
    "ReviewError",
    "SyncResult",
    "add_note",
    "assign",
    "can_reverse",
    "claim",
    "decide",
    "decide_many",
    "get_case",
    "history",
    "is_analyst",
    "metrics",
    "notes",
    "open_case",
    "queue",
    "reverse",
    "roles_of",
    "sync_cases",
]
