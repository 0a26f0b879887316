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

from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core import aws, counters, layout
from chalicelib.core.layout import account as account_key
from chalicelib.core.layout import ins_index as ins_index_key

COUNTER_SHARDS = 16
campaign_key = layout.campaign


def _shard_of(patient_id: str, shards: int) -> int:
    """A person's shard among ``shards``: stable, and spread evenly (patient ids are random)."""
    return counters.shard_of(patient_id, shards)


def _shard_key(campaign_id: str, patient_id: str) -> dict:
    return layout.campaign_counter(campaign_id, _shard_of(patient_id, COUNTER_SHARDS))


def put_campaign(item: dict) -> None:
    aws.table().put_item(Item={**campaign_key(item["campaign_id"]), **item}, ConditionExpression="attribute_not_exists(pk)")


def get_campaign(campaign_id: str) -> dict | None:
    return aws.table().get_item(Key=campaign_key(campaign_id)).get("Item")


def counts(campaign_id: str) -> dict[str, int]:
    return counters.totals(layout.campaign_partition(campaign_id))


def _count_item(campaign_id: str, patient_id: str, add: dict[str, int]) -> dict:
    return counters.add_item(_shard_key(campaign_id, patient_id), add)


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


def transition_items(account: dict, to_status: str, extra_set: dict[str, Any] | None = None, max_failures: int | None = None) -> list[dict]:
    """Moves an account from its current status to ``to_status`` iff nobody moved it first."""
    patient_id = account["patient_id"]
    sets = {"status": to_status, **(extra_set or {})}
    names = {f"#a{i}": name for i, name in enumerate(sets)}
    values = {f":a{i}": value for i, value in enumerate(sets.values())}
    values[":from"] = account["status"]
    condition = "#a0 = :from"
    if max_failures is not None:
        condition += " AND (attribute_not_exists(failed_attempts) OR failed_attempts < :max_failures)"
        values[":max_failures"] = max_failures
    update = {
        "Update": {
            "TableName": aws.table().name,
            "Key": account_key(patient_id),
            "UpdateExpression": "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets))),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
    items = [update]
    if account.get("campaign_id"):
        items.append(_count_item(account["campaign_id"], patient_id, {account["status"]: -1, to_status: 1}))
    return items


def record_failed_attempt(patient_id: str) -> int:
    """Counts one wrong answer; returns the new total (atomic, so racing guesses all count)."""
    result = aws.table().update_item(
        Key=account_key(patient_id),
        UpdateExpression="ADD failed_attempts :one",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(result["Attributes"]["failed_attempts"])


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
