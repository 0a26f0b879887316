"""The activity history every module writes to: append-only, hash-chained, race-safe.

In the history table (core.data.layout HISTORY_TABLE), appended by every module's function, read
by the activity module's:
    pk = PAT#<patient_id>   sk = SPACE#ACTIVITY_HEAD   {seq, hash}   the chain's head, read when
                                                                an event is appended
    pk = PAT#<patient_id>   sk = ACT#<seq, 12 digits>  one event

An event about a document hidden from the representatives (the minor's secret) carries
``hidden_from_representatives: true``, and one about a document still invisible to the patient
``invisible_to_patient: true``, inside its hash: what the event was about when it was written,
for the reader of the history to decide who sees it, while the chain stays whole.

``record`` appends one event; ``commit`` applies a module's writes together with the event that
describes them, in one transaction: the head moves from seq n to n+1 only if it is still at n, the
event n+1 is created only if absent, and the writes keep their own conditions. A racing appender
loses and retries on the new head; a write whose own condition fails means the caller's race was
lost (``StateChanged``), and nothing was written.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from chalicelib.core import clock
from chalicelib.core.data import aws, layout
from chalicelib.core.errors import Conflict, cancellation_reasons, is_condition_failure
from chalicelib.core.history import chain
from chalicelib.core.ids import new_id
from chalicelib.core.models import ActorRef

MAX_ATTEMPTS = 25
TABLE = layout.HISTORY_TABLE


class StateChanged(Conflict):
    """A write the event came with lost its condition: someone changed the state first."""


def get_head(patient_id: str) -> dict[str, Any] | None:
    head: dict[str, Any] | None = (
        aws.table(TABLE).get_item(Key=layout.activity_head(patient_id), ConsistentRead=True).get("Item")
    )
    return head


def _chain_items(patient_id: str, head: dict[str, Any] | None, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transaction items moving the head to the last of ``events`` (each carries seq and hash)."""
    table = aws.table(TABLE).name
    head_key = layout.activity_head(patient_id)
    last = events[-1]
    if head is None:
        move_head = aws.put_new({**head_key, "seq": last["seq"], "hash": last["hash"]}, TABLE)
    else:
        move_head = {
            "Update": {
                "TableName": table,
                "Key": head_key,
                "UpdateExpression": "SET seq = :seq, #hash = :hash",
                "ConditionExpression": "seq = :prev",
                "ExpressionAttributeNames": {"#hash": "hash"},
                "ExpressionAttributeValues": {":seq": last["seq"], ":hash": last["hash"], ":prev": head["seq"]},
            }
        }
    put_events = [aws.put_new({**layout.activity_event(patient_id, event["seq"]), **event}, TABLE) for event in events]
    return [move_head, *put_events]


def record(
    patient_id: str,
    actor: ActorRef,
    action: str,
    resource: str | None = None,
    *,
    head: dict[str, Any] | None = None,
    hidden_from_representatives: bool = False,
    invisible_to_patient: bool = False,
) -> dict[str, Any]:
    """Appends one event that comes with no write of its own (a read, a notice)."""
    return commit(
        patient_id,
        actor,
        action,
        resource,
        writes=[],
        head=head,
        hidden_from_representatives=hidden_from_representatives,
        invisible_to_patient=invisible_to_patient,
    )


def commit(
    patient_id: str,
    actor: ActorRef,
    action: str,
    resource: str | None = None,
    *,
    writes: list[dict[str, Any]],
    head: dict[str, Any] | None = None,
    new_space: bool = False,
    hidden_from_representatives: bool = False,
    invisible_to_patient: bool = False,
) -> dict[str, Any]:
    """Applies ``writes`` (transaction items: the change the event describes) and appends the event,
    all or nothing. Returns the event.

    ``head`` is the chain's head when the caller already loaded it with the space, and
    ``new_space`` says there is none yet: either spares a read (the write still checks it).
    """
    return commit_events(
        patient_id,
        actor,
        [Event(action, resource, hidden_from_representatives, invisible_to_patient)],
        writes=writes,
        head=head,
        new_space=new_space,
    )[0]


class Event(NamedTuple):
    """One event of a change: what was done, on what, and whether it concerns a document hidden
    from the representatives (then they never see the event) or still invisible to the patient."""

    action: str
    resource: str | None = None
    hidden_from_representatives: bool = False
    invisible_to_patient: bool = False


def commit_events(
    patient_id: str,
    actor: ActorRef,
    described_by: list[Event],
    *,
    writes: list[dict[str, Any]],
    head: dict[str, Any] | None = None,
    new_space: bool = False,
) -> list[dict[str, Any]]:
    """``commit`` for a change several events describe (a bundle of documents deposited at once):
    the writes and every event, in one transaction. Returns the events, in order."""
    known = new_space or head is not None
    for attempt in range(MAX_ATTEMPTS):
        if attempt or not known:
            head = get_head(patient_id)
        seq = int(head["seq"]) if head else 0
        prev_hash = head["hash"] if head else chain.GENESIS
        events = []
        for described in described_by:
            seq += 1
            event = {
                "seq": seq,
                "event_id": new_id("evt"),
                "at": clock.iso(clock.now()),
                "actor_role": actor.role,
                "actor_id": actor.id,
                "action": described.action,
                "resource": described.resource,
                "prev_hash": prev_hash,
            }
            for flag in chain.OPTIONAL_CHAINED_FIELDS:  # written only when true: older events keep their hash
                if getattr(described, flag):
                    event[flag] = True
            event["hash"] = prev_hash = chain.event_hash(prev_hash, event)
            events.append(event)
        chain_items = _chain_items(patient_id, head, events)
        try:
            aws.table().meta.client.transact_write_items(TransactItems=chain_items + writes)
            return events
        except Exception as error:  # only condition failures are retried
            if not is_condition_failure(error):
                raise
            # DynamoDB gives one reason per item, in order: the writes' reasons follow the chain's.
            writes_reasons = cancellation_reasons(error)[len(chain_items) :]
            if "ConditionalCheckFailed" in writes_reasons:
                raise StateChanged("This changed in the meantime; reload and try again.") from error
            # another appender won: back off
            time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))  # noqa: S311 - jitter, not a secret
    raise Conflict("Too many simultaneous changes on this space; try again.")


def _events(patient_id: str, newest_first: bool) -> dict[str, Any]:
    return {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": layout.patient(patient_id), ":prefix": layout.ACTIVITY_EVENT_PREFIX},
        "ScanIndexForward": not newest_first,
    }


def page(
    patient_id: str, limit: int, start_key: dict[str, Any] | None, newest_first: bool
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    return aws.query_page({**_events(patient_id, newest_first), "Limit": limit}, start_key, TABLE)


def visible_page(
    patient_id: str, limit: int, start_key: dict[str, Any] | None, visible: Callable[[dict[str, Any]], bool]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A full page of the events ``visible`` accepts, newest first (core.data.aws.visible_page)."""
    return aws.visible_page(_events(patient_id, newest_first=True), start_key, limit, visible, kind=TABLE)


def events_from(patient_id: str, first_seq: int, last_seq: int | None = None) -> list[dict[str, Any]]:
    """The events from ``first_seq`` (to ``last_seq``, else the newest), their chained fields only:
    what checking the chain since a signed head reads (core.history.heads), not the whole history."""
    fields = ("seq", "prev_hash", "hash", *chain.CHAINED_FIELDS[1:], *chain.OPTIONAL_CHAINED_FIELDS)
    names = {f"#f{n}": name for n, name in enumerate(fields)}
    return aws.query_all(
        TABLE,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues={
            ":pk": layout.patient(patient_id),
            ":first": layout.activity_event(patient_id, first_seq)["sk"],
            ":last": layout.activity_event(patient_id, last_seq if last_seq is not None else chain.LAST_SEQ)["sk"],
        },
        Select="SPECIFIC_ATTRIBUTES",  # the signer's role may read these attributes only (infra/functions.py)
        ProjectionExpression=", ".join(names),
        ExpressionAttributeNames=names,
        ConsistentRead=True,
    )
