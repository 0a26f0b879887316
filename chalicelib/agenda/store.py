"""Agenda events in DynamoDB, in the patient's partition, ordered by start (keys in core.data.layout).

    sk = AGENDA#<start>#<event_id>   the event: kind, title, start, end?, location?,
        professional_name?, author_role, author_id, created_at, updated_at, reminded_at (once its
        reminder went out); while its reminder is due, it is in the reminder schedule's index
        (one partition per hour of start)
    sk = AGENDA_ID#<event_id>        {event_sk}: from an event_id to its item

Listing by period is a key range on the patient's partition (strongly consistent). ``start`` is
ISO 8601 UTC to the second, so the text order is the time order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core import clock
from chalicelib.core.data import aws, layout
from chalicelib.core.data.layout import AGENDA_PREFIX as PREFIX
from chalicelib.core.data.layout import patient as partition

END = "~"  # sorts after every character of a timestamp or an id
event_sk = layout.agenda_sort_key
pointer_key = layout.agenda_pointer
OWNED_PREFIXES = (layout.AGENDA_PREFIX, layout.AGENDA_POINTER_PREFIX, layout.AGENDA_BOOKING_PREFIX)  # closure
TABLE = layout.AGENDA_TABLE


def reminder_bucket(moment: datetime) -> str:
    return layout.reminder_bucket(clock.iso(moment)[:13])


def find(patient_id: str, event_id: str) -> dict | None:
    pointer = aws.table(TABLE).get_item(Key=pointer_key(patient_id, event_id), ConsistentRead=True).get("Item")
    if pointer is None:
        return None
    return (
        aws.table(TABLE)
        .get_item(Key={"pk": partition(patient_id), "sk": pointer["event_sk"]}, ConsistentRead=True)
        .get("Item")
    )


def page(
    patient_id: str, start: str, end: str | None, limit: int, start_key: dict | None
) -> tuple[list[dict], dict | None]:
    high = f"{PREFIX}{end}#{END}" if end else f"{PREFIX}{END}"
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(partition(patient_id)) & Key("sk").between(f"{PREFIX}{start}", high),
        "Limit": limit,
        "ConsistentRead": True,
    }
    return aws.query_page(query, start_key, TABLE)


def all_of(patient_id: str) -> list[dict]:
    items, start_key = [], None
    while True:
        batch, start_key = page(patient_id, "", None, 500, start_key)
        items += batch
        if not start_key:
            return items


def due(bucket: str, low: str, high: str) -> list[dict]:
    return aws.query_all(
        TABLE,
        IndexName="gsi1",
        KeyConditionExpression=Key("gsi1pk").eq(bucket) & Key("gsi1sk").between(low, f"{high}#{END}"),
    )


# --- transaction items --------------------------------------------------------------------------


def _table() -> str:
    return aws.table(TABLE).name


def with_keys(item: dict, now: datetime) -> dict:
    """The stored item: its key, and the reminder index entry while a reminder is still due."""
    stored = {k: v for k, v in item.items() if k not in ("gsi1pk", "gsi1sk") and v is not None}
    stored.update(pk=partition(item["patient_id"]), sk=event_sk(item["start"], item["event_id"]))
    start = clock.parse_iso(item["start"])
    if "reminded_at" not in stored and start > now:
        stored.update(gsi1pk=reminder_bucket(start), gsi1sk=f"{item['start']}#{item['patient_id']}#{item['event_id']}")
    return stored


def put_new(item: dict) -> list[dict]:
    return [
        aws.put_new(item, TABLE),
        aws.put_new({**pointer_key(item["patient_id"], item["event_id"]), "event_sk": item["sk"]}, TABLE),
    ]


def replace(old: dict, new: dict) -> list[dict]:
    """The new version, on condition that the old one is still the current one."""
    if old["sk"] == new["sk"]:
        # Same start: the reminder state must be the one seen too (a reminder sent meanwhile
        # would otherwise be forgotten and sent again).
        seen = {":seen": old["updated_at"]}
        condition = "updated_at = :seen AND "
        if "reminded_at" in old:
            condition += "reminded_at = :reminded"
            seen[":reminded"] = old["reminded_at"]
        else:
            condition += "attribute_not_exists(reminded_at)"
        return [
            {
                "Put": {
                    "TableName": _table(),
                    "Item": new,
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": seen,
                }
            }
        ]
    return [
        _delete_unchanged(old),
        aws.put_new(new, TABLE),
        {
            "Update": {
                "TableName": _table(),
                "Key": pointer_key(new["patient_id"], new["event_id"]),
                "UpdateExpression": "SET event_sk = :new",
                "ConditionExpression": "event_sk = :old",
                "ExpressionAttributeValues": {":new": new["sk"], ":old": old["sk"]},
            }
        },
    ]


def _delete_unchanged(old: dict) -> dict:
    """Deletes the version seen, on condition that nobody changed it since."""
    return {
        "Delete": {
            "TableName": _table(),
            "Key": {"pk": old["pk"], "sk": old["sk"]},
            "ConditionExpression": "updated_at = :seen",
            "ExpressionAttributeValues": {":seen": old["updated_at"]},
        }
    }


def delete(old: dict) -> list[dict]:
    return [
        _delete_unchanged(old),
        {"Delete": {"TableName": _table(), "Key": pointer_key(old["patient_id"], old["event_id"])}},
    ]


def claim_reminder(item: dict, now: str) -> dict:
    """The reminder marker: written once, for this start only (a moved event is reminded anew)."""
    return {
        "Update": {
            "TableName": _table(),
            "Key": {"pk": item["pk"], "sk": item["sk"]},
            "UpdateExpression": "SET reminded_at = :now REMOVE gsi1pk, gsi1sk",
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(reminded_at) AND #start = :start",
            "ExpressionAttributeNames": {"#start": "start"},
            "ExpressionAttributeValues": {":now": now, ":start": item["start"]},
        }
    }


# --- bookings from outside (FHIR Appointment): one event per identifier ------------------------
def booking(patient_id: str, identifier: str) -> dict | None:
    """A booking's marker: {event_id, cancelled?}."""
    key = layout.agenda_booking(patient_id, identifier)
    return aws.table(TABLE).get_item(Key=key, ConsistentRead=True).get("Item")


def new_booking(patient_id: str, identifier: str, event_id: str) -> dict:
    """Written only if the identifier is new here: of two first sendings, one wins."""
    return aws.put_new({**layout.agenda_booking(patient_id, identifier), "event_id": event_id}, TABLE)


def booking_state(patient_id: str, identifier: str, seen: dict, cancelled: bool) -> dict:
    """The marker booked again or cancelled, on condition that nobody changed it since it was read."""
    change = "SET cancelled = :true" if cancelled else "REMOVE cancelled"
    condition = "attribute_exists(cancelled)" if seen.get("cancelled") else "attribute_not_exists(cancelled)"
    return {
        "Update": {
            "TableName": _table(),
            "Key": layout.agenda_booking(patient_id, identifier),
            "UpdateExpression": change,
            "ConditionExpression": condition,
            **({"ExpressionAttributeValues": {":true": True}} if cancelled else {}),
        }
    }
