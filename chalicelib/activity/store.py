"""DynamoDB layout of the activity history.

    pk = PAT#<patient_id>   sk = SPACE#ACTIVITY_HEAD   {seq, hash}   the chain's head, loaded with
                                                                the rest of the space (spaces.store)
    pk = PAT#<patient_id>   sk = ACT#<seq, 12 digits>  one event

An append is one transaction: the head moves from seq n to n+1 only if it is still at n, and the
event n+1 is created only if absent; a racing writer loses and retries on the new head. Callers
may add their own items to the same transaction (a status change and its event land together).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import aws

HEAD = "SPACE#ACTIVITY_HEAD"
EVENT_PREFIX = "ACT#0"


def partition(patient_id: str) -> str:
    return f"PAT#{patient_id}"


def event_key(patient_id: str, seq: int) -> dict:
    return {"pk": partition(patient_id), "sk": f"ACT#{seq:012d}"}


def get_head(patient_id: str) -> dict | None:
    item = aws.table().get_item(Key={"pk": partition(patient_id), "sk": HEAD}, ConsistentRead=True).get("Item")
    return item


def append_items(patient_id: str, head: dict | None, event: dict) -> list[dict]:
    """Transaction items moving the head to ``event`` (which carries seq and hash)."""
    table = aws.table().name
    head_key = {"pk": partition(patient_id), "sk": HEAD}
    if head is None:
        move_head = {
            "Put": {
                "TableName": table,
                "Item": {**head_key, "seq": event["seq"], "hash": event["hash"]},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    else:
        move_head = {
            "Update": {
                "TableName": table,
                "Key": head_key,
                "UpdateExpression": "SET seq = :seq, #hash = :hash",
                "ConditionExpression": "seq = :prev",
                "ExpressionAttributeNames": {"#hash": "hash"},
                "ExpressionAttributeValues": {":seq": event["seq"], ":hash": event["hash"], ":prev": head["seq"]},
            }
        }
    put_event = {
        "Put": {
            "TableName": table,
            "Item": {**event_key(patient_id, event["seq"]), **event},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    return [move_head, put_event]


def transact(items: list[dict]) -> None:
    aws.table().meta.client.transact_write_items(TransactItems=items)


def page(patient_id: str, limit: int, start_key: dict | None, newest_first: bool) -> tuple[list[dict], dict | None]:
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": partition(patient_id), ":prefix": EVENT_PREFIX},
        "ScanIndexForward": not newest_first,
        "Limit": limit,
    }
    return aws.query_page(query, start_key)


def all_events(patient_id: str) -> list[dict]:
    events, start_key = [], None
    while True:
        items, start_key = page(patient_id, 1000, start_key, newest_first=False)
        events.extend(items)
        if not start_key:
            return events
