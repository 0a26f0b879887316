"""Reading a person's activity history (the chain itself is kept by core.history)."""

from __future__ import annotations

from chalicelib.activity.models import ActivityEvent, ActivityPage, ChainCheck
from chalicelib.core import chain, history
from chalicelib.core.auth import Principal
from chalicelib.core.history import ActorRef
from chalicelib.core.pagination import decode_cursor, encode_cursor, scope


def _public(item: dict) -> ActivityEvent:
    return ActivityEvent(
        event_id=item["event_id"],
        at=item["at"],
        actor=ActorRef(role=item["actor_role"], id=item["actor_id"]),
        action=item["action"],
        resource=item.get("resource"),
    )


def list_events(caller: Principal, patient_id: str, limit: int, cursor: str | None) -> ActivityPage:
    list_scope = scope("activity", caller, patient_id=patient_id)
    items, last_key = history.page(patient_id, limit, decode_cursor(cursor, list_scope), newest_first=True)
    return ActivityPage(items=[_public(item) for item in items], next_cursor=encode_cursor(last_key, list_scope))


def verify(patient_id: str) -> ChainCheck:
    events = history.all_events(patient_id)
    return ChainCheck(valid=chain.verify(events, history.get_head(patient_id)), events=len(events))
