"""The catalogue and the patients' connections in DynamoDB (keys in core.data.layout).

An app (APP#<app_id>) holds name, publisher, category, description, scopes, status,
referenced_at, withdrawn_at; it is in the public listing's index only while referenced (a sparse
index). A connection (SPACE#CONNECTION#<connection_id>) shares the SPACE# prefix, so the query
that loads a space for the access decision finds it (core.policy.gate.actor_of); CONNAPP#<app_id> keeps
one connection per app.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.data import aws, layout

LISTING = layout.CATALOGUE_LISTING
REFERENCED = "referenced"
OWNED_PREFIXES = (layout.CONNECTION_PREFIX, layout.APP_CONNECTION_PREFIX)  # what closure deletes
app_key = layout.app
listing_sk = layout.catalogue_sort_key
connection_key = layout.connection
guard_key = layout.app_connection


# --- catalogue ----------------------------------------------------------------------------------
def get_app(app_id: str, consistent: bool = True) -> dict | None:
    return aws.table().get_item(Key=app_key(app_id), ConsistentRead=consistent).get("Item")


def create_app(item: dict) -> None:
    """Raises a ClientError (condition) if the app_id is taken."""
    aws.table().put_item(
        Item={
            **app_key(item["app_id"]),
            **item,
            "gsi1pk": LISTING,
            "gsi1sk": listing_sk(item["category"], item["name"], item["app_id"]),
        },
        ConditionExpression="attribute_not_exists(pk)",
    )


def set_status(app: dict, status: str, at: str) -> dict:
    """Moves the app to ``status``; returns the new item."""
    if status == REFERENCED:
        expression = "SET #s = :s, referenced_at = :at, gsi1pk = :pk, gsi1sk = :sk REMOVE withdrawn_at"
        values = {
            ":s": status,
            ":at": at,
            ":pk": LISTING,
            ":sk": listing_sk(app["category"], app["name"], app["app_id"]),
        }
    else:
        expression = "SET #s = :s, withdrawn_at = :at REMOVE gsi1pk, gsi1sk"
        values = {":s": status, ":at": at}
    return aws.table().update_item(
        Key=app_key(app["app_id"]),
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )["Attributes"]


def listing(category: str | None, limit: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
    """Referenced apps by category then name (the sparse index holds referenced apps only)."""
    from boto3.dynamodb.conditions import Key

    condition = Key("gsi1pk").eq(LISTING)
    if category:
        condition &= Key("gsi1sk").begins_with(f"{category}#")
    query: dict[str, Any] = {"IndexName": "gsi1", "KeyConditionExpression": condition, "Limit": limit}
    return aws.query_page(query, start_key)


# --- connections (transaction items, committed with their history event) ------------------------
def connect_items(patient_id: str, item: dict) -> list[dict]:
    return [
        aws.put_new({**connection_key(patient_id, item["connection_id"]), **item}),
        aws.put_new({**guard_key(patient_id, item["app_id"]), "connection_id": item["connection_id"]}),
    ]


def revoke_items(patient_id: str, connection: dict) -> list[dict]:
    table = aws.table().name
    return [
        {
            "Delete": {
                "TableName": table,
                "Key": connection_key(patient_id, connection["connection_id"]),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {"Delete": {"TableName": table, "Key": guard_key(patient_id, connection["app_id"])}},
    ]
