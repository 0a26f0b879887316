"""The activity history every module writes to: append-only, hash-chained, race-safe."""

from __future__ import annotations

import random
import time

from chalicelib.activity import chain, store
from chalicelib.activity.models import ActivityEvent, ActivityPage, ActorRef, ChainCheck
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, cancellation_reasons, is_condition_failure
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import decode_cursor, encode_cursor

MAX_ATTEMPTS = 25


class StateChanged(Conflict):
    """A write the event came with lost its condition: someone changed the state first."""


def record(
    patient_id: str,
    actor: ActorRef,
    action: str,
    resource: str | None = None,
    with_items: list[dict] | None = None,
    new_space: bool = False,
    head: dict | None = None,
) -> dict:
    """Appends one event, atomically with ``with_items`` (the write the event describes).

    Retries when another event got appended first; raises ``StateChanged`` when one of
    ``with_items`` fails its own condition (the caller's race was lost, nothing was written).
    ``head`` is the chain's head when the caller already loaded it with the space, and
    ``new_space`` says there is none yet: either spares a read (the write still checks it).
    """
    extra = with_items or []
    known = new_space or head is not None
    for attempt in range(MAX_ATTEMPTS):
        if attempt or not known:
            head = store.get_head(patient_id)
        seq = int(head["seq"]) + 1 if head else 1
        prev_hash = head["hash"] if head else chain.GENESIS
        event = {
            "seq": seq,
            "event_id": new_id("evt"),
            "at": clock.iso(clock.now()),
            "actor_role": actor.role,
            "actor_id": actor.id,
            "action": action,
            "resource": resource,
            "prev_hash": prev_hash,
        }
        event["hash"] = chain.event_hash(prev_hash, event)
        try:
            store.transact(store.append_items(patient_id, head, event) + extra)
            return event
        except Exception as error:  # noqa: BLE001 - only condition failures are retried
            if not is_condition_failure(error):
                raise
            reasons = cancellation_reasons(error)
            if any(code == "ConditionalCheckFailed" for code in reasons[2:]):
                raise StateChanged("This changed in the meantime; reload and try again.") from error
            time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))  # another writer won: back off
    raise Conflict("Too many simultaneous changes on this space; try again.")


def _public(item: dict) -> ActivityEvent:
    return ActivityEvent(
        event_id=item["event_id"],
        at=item["at"],
        actor=ActorRef(role=item["actor_role"], id=item["actor_id"]),
        action=item["action"],
        resource=item.get("resource"),
    )


def list_events(patient_id: str, limit: int, cursor: str | None) -> ActivityPage:
    start_key = decode_cursor(cursor, pk=store.partition(patient_id))
    items, last_key = store.page(patient_id, limit, start_key, newest_first=True)
    return ActivityPage(items=[_public(item) for item in items], next_cursor=encode_cursor(last_key))


def verify(patient_id: str) -> ChainCheck:
    events = store.all_events(patient_id)
    return ChainCheck(valid=chain.verify(events, store.get_head(patient_id)), events=len(events))
