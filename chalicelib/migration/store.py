"""A migration in DynamoDB (keys in core.data.layout): its item, its sharded counters and its rejects;
the listing of the import bucket it starts from, and the start of its state machine.
The counters and rejects are written by the importer (the documents module) in the very
transactions that import or refuse each archive, and by the state machine's last step (status)."""

from __future__ import annotations

import json
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core.data import aws, counters, layout
from chalicelib.core.settings import settings

partition = layout.migration_partition
TABLE = layout.MIGRATION_TABLE


def put(item: dict) -> None:
    aws.table(TABLE).put_item(
        Item={**layout.migration(item["migration_id"]), **item}, ConditionExpression="attribute_not_exists(pk)"
    )


def delete(migration_id: str) -> None:
    aws.table(TABLE).delete_item(Key=layout.migration(migration_id))


def get(migration_id: str) -> dict | None:
    return aws.table(TABLE).get_item(Key=layout.migration(migration_id), ConsistentRead=True).get("Item")


def has_archives(prefix: str) -> bool:
    """Is there anything under ``prefix`` in the import bucket (one listing of one key)?"""
    listing = aws.client("s3").list_objects_v2(Bucket=settings().import_bucket, Prefix=prefix, MaxKeys=1)
    return listing.get("KeyCount", 0) > 0


def start_import(migration_id: str, prefix: str) -> None:
    """Starts the legacy import state machine (its execution named after the migration) with what
    it needs: the prefix to list, and the item its last step updates."""
    aws.client("stepfunctions").start_execution(
        stateMachineArn=settings().legacy_import_state_machine_arn,
        name=migration_id,
        input=json.dumps({"migration_id": migration_id, "prefix": prefix, "record": layout.migration(migration_id)}),
    )


def counts(migration_id: str) -> dict[str, int]:
    return counters.totals(layout.migration_partition(migration_id), TABLE)


def rejects_page(migration_id: str, limit: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(layout.migration_partition(migration_id))
        & Key("sk").begins_with(layout.REJECT_PREFIX),
        "Limit": limit,
    }
    return aws.query_page(query, start_key, TABLE)
