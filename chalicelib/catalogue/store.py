"""The catalogue and the patients' connections in the catalogue table (keys in core.data.layout).

An app (APP#<app_id>) holds name, publisher, category, description, scopes, status,
referenced_at, withdrawn_at; it is in the public listing's index only while referenced (a sparse
index). A connection (SPACE#CONNECTION#<connection_id>, in its patient's partition) is written and
deleted with its guard CONNAPP#<app_id>, which keeps one connection per app and carries what the
gate needs of it (its scopes): core.policy.gate actor_of reads the guard and the app in one call.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.data import aws, layout, spaces

TABLE = layout.CATALOGUE_TABLE
LISTING = layout.CATALOGUE_LISTING
REFERENCED = "referenced"
OWNED_PREFIXES = (layout.CONNECTION_PREFIX, layout.APP_CONNECTION_PREFIX)  # what closure deletes
app_key = layout.app
listing_sk = layout.catalogue_sort_key
connection_key = layout.connection
guard_key = layout.app_connection
connected_app = spaces.connected_app  # (app, guard): what connect checks before it writes


# --- catalogue ----------------------------------------------------------------------------------
def get_app(app_id: str, consistent: bool = True) -> dict | None:
    return aws.table(TABLE).get_item(Key=app_key(app_id), ConsistentRead=consistent).get("Item")


def create_app(item: dict) -> None:
    """Raises a ClientError (condition) if the app_id is taken."""
    aws.table(TABLE).put_item(
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
    return aws.table(TABLE).update_item(
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
    return aws.query_page(query, start_key, TABLE)


# --- connections --------------------------------------------------------------------------------
def connections(patient_id: str) -> list[dict]:
    """A patient's connections (a handful per person): one query of their partition."""
    return aws.query_all(
        TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": layout.patient(patient_id), ":prefix": layout.CONNECTION_PREFIX},
        ConsistentRead=True,
    )


def get_connection(patient_id: str, connection_id: str) -> dict | None:
    return aws.table(TABLE).get_item(Key=connection_key(patient_id, connection_id), ConsistentRead=True).get("Item")


# Transaction items, committed with their history event.
def connect_items(patient_id: str, item: dict) -> list[dict]:
    guard = {key: item[key] for key in ("connection_id", "app_id", "scopes")}
    return [
        aws.put_new({**connection_key(patient_id, item["connection_id"]), **item}, TABLE),
        aws.put_new({**guard_key(patient_id, item["app_id"]), **guard}, TABLE),
    ]


def revoke_items(patient_id: str, connection: dict) -> list[dict]:
    table = aws.table(TABLE).name
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
