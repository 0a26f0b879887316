"""Document metadata in DynamoDB (keys in core.layout: DOC#<document_id> in the space, in the
release timer's index while invisible to the patient); content in S3 through core.blobs."""

from __future__ import annotations

from typing import Any, Callable

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.core import aws, clock, layout
from chalicelib.core.layout import DOCUMENT_PREFIX as PREFIX

key = layout.document


def owner(patient_id: str, document_id: str) -> str:
    k = key(patient_id, document_id)
    return f"{k['pk']}|{k['sk']}"


def release_index_keys(patient_id: str, document_id: str, release_at) -> dict:
    """While a document is invisible to its patient: its entry in the release timer's index."""
    return {
        "gsi1pk": layout.release_bucket(release_at.date().isoformat()),
        "gsi1sk": f"{clock.iso(release_at)}#{patient_id}#{document_id}",
    }


def object_key(document_id: str) -> str:
    return f"documents/{document_id}"


def get(patient_id: str, document_id: str) -> dict | None:
    return aws.table().get_item(Key=key(patient_id, document_id)).get("Item")


def put_item(item: dict) -> dict:
    return {
        "Put": {
            "TableName": aws.table().name,
            "Item": {**key(item["patient_id"], item["document_id"]), **item},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def delete_item(patient_id: str, document_id: str) -> dict:
    return {
        "Delete": {
            "TableName": aws.table().name,
            "Key": key(patient_id, document_id),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


def update_item(patient_id: str, document_id: str, sets: dict[str, Any], removes: tuple[str, ...] = (), condition: str = "attribute_exists(pk)", values: dict | None = None) -> dict:
    names = {f"#f{i}": name for i, name in enumerate([*sets, *removes])}
    expression = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(sets)))
    if removes:
        expression += " REMOVE " + ", ".join(f"#f{len(sets) + i}" for i in range(len(removes)))
    return {
        "Update": {
            "TableName": aws.table().name,
            "Key": key(patient_id, document_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {**{f":f{i}": v for i, v in enumerate(sets.values())}, **(values or {})},
        }
    }


def _newest_first(patient_id: str, document_type: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(layout.patient(patient_id)) & Key("sk").begins_with(PREFIX),
        "ScanIndexForward": False,
    }
    if document_type:
        query["FilterExpression"] = Attr("type").eq(document_type)
    return query


def page(patient_id: str, limit: int, start_key: dict | None, document_type: str | None) -> tuple[list[dict], dict | None]:
    return aws.query_page({**_newest_first(patient_id, document_type), "Limit": limit}, start_key)


def visible_page(
    patient_id: str, limit: int, start_key: dict | None, document_type: str | None, visible: Callable[[dict], bool]
) -> tuple[list[dict], dict | None]:
    """A full page of the documents ``visible`` accepts, newest first (core.aws.visible_page: the
    others leave no trace in the page or its cursor)."""
    return aws.visible_page(_newest_first(patient_id, document_type), start_key, limit, visible)


def all_of(patient_id: str) -> list[dict]:
    items, start_key = [], None
    while True:
        batch, start_key = page(patient_id, 500, start_key, None)
        items += batch
        if not start_key:
            return items


def due_for_release(day: str, until: str) -> list[dict]:
    return aws.table().query(
        IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(layout.release_bucket(day)) & Key("gsi1sk").lte(until)
    ).get("Items", [])
