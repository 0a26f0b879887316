"""Enrolment data in DynamoDB (keys in core.layout).

- A campaign and its status counters, sharded so that a national wave's concurrent writers do
  not queue on one item; reading them is one query of COUNTER_SHARDS items.
- The person's account (core.spaces) carries its cohort's shard as index key, for the timer to
  find its members: a wave's cohort holds millions, and one index partition takes ~1,000
  writes/s; the timer works the shards in parallel.

Status changes are transaction items conditioned on the current status, built here and committed
together with the activity event (core.history.commit).
"""

from __future__ import annotations

import zlib
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core import aws, layout
from chalicelib.core.errors import is_condition_failure
from chalicelib.core.layout import account as account_key
from chalicelib.core.layout import ins_index as ins_index_key

COUNTER_SHARDS = 16
campaign_key = layout.campaign


def _shard_of(patient_id: str, shards: int) -> int:
    """A person's shard among ``shards``: stable, and spread evenly (patient ids are random)."""
    return zlib.crc32(patient_id.encode()) % shards


def _shard_key(campaign_id: str, patient_id: str) -> dict:
    return layout.campaign_counter(campaign_id, _shard_of(patient_id, COUNTER_SHARDS))


def put_campaign(item: dict) -> None:
    aws.table().put_item(Item={**campaign_key(item["campaign_id"]), **item}, ConditionExpression="attribute_not_exists(pk)")


def get_campaign(campaign_id: str) -> dict | None:
    return aws.table().get_item(Key=campaign_key(campaign_id)).get("Item")


def counts(campaign_id: str) -> dict[str, int]:
    result = aws.table().query(
        KeyConditionExpression=Key("pk").eq(layout.campaign_partition(campaign_id)) & Key("sk").begins_with(layout.COUNTER_PREFIX),
        ConsistentRead=True,
    )
    totals: dict[str, int] = {}
    for shard in result.get("Items", []):
        for status, value in shard.items():
            if status not in ("pk", "sk"):
                totals[status] = totals.get(status, 0) + int(value)
    return totals


def _count_item(campaign_id: str, patient_id: str, add: dict[str, int]) -> dict:
    names = {f"#s{i}": status for i, status in enumerate(add)}
    values = {f":v{i}": delta for i, delta in enumerate(add.values())}
    return {
        "Update": {
            "TableName": aws.table().name,
            "Key": _shard_key(campaign_id, patient_id),
            "UpdateExpression": "ADD " + ", ".join(f"#s{i} :v{i}" for i in range(len(add))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def invitation_items(account: dict) -> list[dict]:
    """A new person: the INS index entry and the account, both only if absent, and the count."""
    table = aws.table().name
    patient_id = account["patient_id"]
    return [
        {
            "Put": {
                "TableName": table,
                "Item": {**ins_index_key(account["ins_digest"]), "patient_id": patient_id},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": {**account_key(patient_id), **account},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        _count_item(account["campaign_id"], patient_id, {"invited": 1}),
    ]


def transition_items(account: dict, to_status: str, extra_set: dict[str, Any] | None = None, give_back_attempt: bool = False) -> list[dict]:
    """Moves an account from its current status to ``to_status`` iff nobody moved it first; a
    right answer with the code gives back the attempt ``admit_answer`` counted, in the same write."""
    patient_id = account["patient_id"]
    sets = {"status": to_status, **(extra_set or {})}
    names = {f"#a{i}": name for i, name in enumerate(sets)}
    values = {f":a{i}": value for i, value in enumerate(sets.values())}
    values[":from"] = account["status"]
    expression = "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets)))
    if give_back_attempt:
        expression += " ADD failed_attempts :given_back"
        values[":given_back"] = -1
    update = {
        "Update": {
            "TableName": aws.table().name,
            "Key": account_key(patient_id),
            "UpdateExpression": expression,
            "ConditionExpression": "#a0 = :from",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
    items = [update]
    if account.get("campaign_id"):
        items.append(_count_item(account["campaign_id"], patient_id, {account["status"]: -1, to_status: 1}))
    return items


def admit_answer(patient_id: str, max_failures: int) -> dict | None:
    """Counts an answer with the code as failed before it is compared, in the one conditional
    write that admits it while fewer than ``max_failures`` are counted: racing answers each take
    their own place, so no more than ``max_failures`` wrong codes are ever compared, whatever the
    parallelism. Returns the account as admitted, or None once the code is locked."""
    from botocore.exceptions import ClientError

    try:
        result = aws.table().update_item(
            Key=account_key(patient_id),
            UpdateExpression="ADD failed_attempts :one",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(failed_attempts) OR failed_attempts < :max)",
            ExpressionAttributeValues={":one": 1, ":max": max_failures},
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if is_condition_failure(error):
            return None
        raise
    return result["Attributes"]


def give_back_attempt(patient_id: str) -> None:
    """A right answer the status refused (409) was not a failed attempt."""
    aws.table().update_item(
        Key=account_key(patient_id),
        UpdateExpression="ADD failed_attempts :given_back",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":given_back": -1},
    )


def mark_reminded(patient_id: str, at: str) -> bool:
    """True only for the first caller: a duplicate timer run does not remind twice."""
    from botocore.exceptions import ClientError

    try:
        aws.table().update_item(
            Key=account_key(patient_id),
            UpdateExpression="SET reminded_at = :at",
            ConditionExpression="#s = :invited AND attribute_not_exists(reminded_at)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":at": at, ":invited": "invited"},
        )
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


COHORT_SHARDS = 16
COHORT_PAGE = 100


cohort_partition = layout.cohort_shard


def cohort_index_keys(cohort_id: str, patient_id: str) -> dict:
    """The account's index keys: its cohort's shard, for the timer to find it."""
    return {"gsi1pk": cohort_partition(cohort_id, _shard_of(patient_id, COHORT_SHARDS)), "gsi1sk": layout.patient(patient_id)}


def cohort_page(cohort_id: str, shard: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
    """One page of a cohort shard's members, and the key the next page starts from (None: the end)."""
    query: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": Key("gsi1pk").eq(cohort_partition(cohort_id, shard)),
        "Limit": COHORT_PAGE,
    }
    return aws.query_page(query, start_key)
