"""Sharded counters: a count spread over the ``COUNT#<shard>`` items of one partition, so that
concurrent writers do not queue on one item, and read back with one query of those few items,
whatever the number counted (enrolment campaigns, legacy DMP migrations). Keys in core.data.layout.
"""

from __future__ import annotations

import zlib
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core.data import aws, layout


def shard_of(value: str, shards: int) -> int:
    """The shard of ``value`` among ``shards``: stable, and even for random or varied values."""
    return zlib.crc32(value.encode()) % shards


def add_item(key: dict[str, Any], add: dict[str, int], kind: str | None = None) -> dict[str, Any]:
    """A transaction item adding ``add`` (name → delta) to the counter item at ``key`` (in the
    table of ``kind``)."""
    names = {f"#s{i}": name for i, name in enumerate(add)}
    values = {f":v{i}": delta for i, delta in enumerate(add.values())}
    return {
        "Update": {
            "TableName": aws.table(kind).name,
            "Key": key,
            "UpdateExpression": "ADD " + ", ".join(f"#s{i} :v{i}" for i in range(len(add))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def totals(partition: str, kind: str | None = None) -> dict[str, int]:
    """Every count of the partition, summed over its shards (one query)."""
    result = aws.table(kind).query(
        KeyConditionExpression=Key("pk").eq(partition) & Key("sk").begins_with(layout.COUNTER_PREFIX),
        ConsistentRead=True,
    )
    sums: dict[str, int] = {}
    for shard in result.get("Items", []):
        for name, value in shard.items():
            if name not in ("pk", "sk"):
                sums[name] = sums.get(name, 0) + int(value)
    return sums
