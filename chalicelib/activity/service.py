"""Reading a person's activity history (the chain itself is kept by core.history.journal).

Every event is shown only if the caller may see what it is about, as the documents module tells
(documents.interface: the one access decision on the document, or on what the event recorded):
nobody learns from their history that a document hidden from them exists. Pages stay full and
the cursor names the last event shown, so the events left out leave no trace.

The check of the chain starts at the newest signed head (core.history.heads), whose signature
vouches for every event before it, and reads only the events from there on; from the genesis
while no head is signed yet. The full check (``full``) reads every event from the genesis and
asks the chain to pass through the signed head: an event before it edited without its chain
recomputed keeps every stored hash, so only rehashing it from the genesis shows the edit. Both
count only the checked events the caller may see (the whole count, or the signed head's seq,
would tell how many are hidden from them).
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.activity.models import ActivityEvent, ActivityPage, ChainCheck
from chalicelib.core import clock
from chalicelib.core.history import chain, heads, journal
from chalicelib.core.http.pagination import decode_cursor, encode_cursor, scope
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import ACTIVITY, READ, Resource
from chalicelib.core.policy.gate import authorize
from chalicelib.core.security.auth import Principal
from chalicelib.documents import interface as documents


def _public(item: dict) -> ActivityEvent:
    return ActivityEvent(
        event_id=item["event_id"],
        at=item["at"],
        actor=ActorRef(role=item["actor_role"], id=item["actor_id"]),
        action=item["action"],
        resource=item.get("resource"),
    )


def _readable(principal: Principal, patient_id: str) -> Callable[[dict], bool]:
    """Which events the caller may read, once the policy let them read this history (else 403/404)."""
    granted = authorize(principal, patient_id, READ, Resource(kind=ACTIVITY))
    return documents.of_space(granted.actor, granted.space, clock.now()).sees_event


def list_events(principal: Principal, patient_id: str, limit: int, cursor: str | None) -> ActivityPage:
    visible = _readable(principal, patient_id)
    list_scope = scope("activity", principal, patient_id=patient_id)
    items, next_key = journal.visible_page(patient_id, limit, decode_cursor(cursor, list_scope), visible)
    return ActivityPage(items=[_public(item) for item in items], next_cursor=encode_cursor(next_key, list_scope))


def verify(principal: Principal, patient_id: str, full: bool = False) -> ChainCheck:
    visible = _readable(principal, patient_id)
    try:
        signed = heads.latest(patient_id)
    except heads.ForgedHead:
        return ChainCheck(valid=False, events=0, signed=False)
    if signed is not None and signed.hash == heads.BROKEN:  # the signer found the chain broken
        return ChainCheck(valid=False, events=0, signed=True)
    # The stored head is read after the signed one, and the events up to it only: events appended
    # (and signed) while the check runs are neither a head behind the signed one nor a broken end.
    head = journal.get_head(patient_id)
    last = int(head["seq"]) if head else 0
    if last < (signed.seq if signed else 1):  # no event, or a stored head behind the signed one (rolled back)
        return ChainCheck(valid=signed is None and head is None, events=0, signed=signed is not None)
    if full:
        events = journal.events_from(patient_id, 1, last)
        valid = chain.verify(events, head) and (signed is None or chain.passes_through(events, signed))
    else:
        events = journal.events_from(patient_id, signed.seq if signed else 1, last)
        valid = chain.verify(events, head, since=signed)
    return ChainCheck(valid=valid, events=sum(1 for event in events if visible(event)), signed=signed is not None)
