"""Enrolment data in DynamoDB (keys in core.data.layout).

- A campaign and its status counters, sharded so that a national wave's concurrent writers do
  not queue on one item; reading them is one query of COUNTER_SHARDS items.
- The person's account (core.data.spaces) carries its cohort's shard as index key, for the timer to
  find its members: a wave's cohort holds millions, and one index partition takes ~1,000
  writes/s; the timer works the shards in parallel.

Status changes are transaction items conditioned on the current status, built here and committed
together with the activity event (core.history.journal.commit).

Families: a minor's legal representatives are on the account; each relationship (legal
representative, guardian or caregiver) also has an entry in the person's DEPENDANTS partition, for
``GET /v1/me/dependants`` without a scan; a guardianship is an item of the adult's space, found
by id through its own small item, and so is the adult's one caregiver (core.data.layout).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chalicelib.core.data import aws, counters, layout, spaces
from chalicelib.core.data.layout import account as account_key
from chalicelib.core.data.layout import ins_index as ins_index_key
from chalicelib.core.errors import cancellation_reasons, is_condition_failure
from chalicelib.core.policy.decision import CAREGIVER, GUARDIAN, LEGAL_REPRESENTATIVE, majority_day
from chalicelib.core.settings import settings

COUNTER_SHARDS = 16
campaign_key = layout.campaign
TABLE = layout.ENROLMENT_TABLE  # campaigns, their counters, pending notices; accounts are the spaces table's


def _shard_of(patient_id: str, shards: int) -> int:
    """A person's shard among ``shards``: stable, and spread evenly (patient ids are random)."""
    return counters.shard_of(patient_id, shards)


def _shard_key(campaign_id: str, patient_id: str) -> dict:
    return layout.campaign_counter(campaign_id, _shard_of(patient_id, COUNTER_SHARDS))


def put_campaign(item: dict) -> None:
    aws.table(TABLE).put_item(
        Item={**campaign_key(item["campaign_id"]), **item}, ConditionExpression="attribute_not_exists(pk)"
    )


def get_campaign(campaign_id: str) -> dict | None:
    return aws.table(TABLE).get_item(Key=campaign_key(campaign_id)).get("Item")


def counts(campaign_id: str) -> dict[str, int]:
    return counters.totals(layout.campaign_partition(campaign_id), TABLE)


def _count_item(campaign_id: str, patient_id: str, add: dict[str, int]) -> dict:
    return counters.add_item(_shard_key(campaign_id, patient_id), add, TABLE)


def _put(item: dict, condition: str | None = "attribute_not_exists(pk)") -> dict:
    put: dict[str, Any] = {"TableName": aws.table().name, "Item": item}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _delete(key: dict) -> dict:
    return {"Delete": {"TableName": aws.table().name, "Key": key, "ConditionExpression": "attribute_exists(pk)"}}


def invitation_items(account: dict, new_person: bool = True) -> list[dict]:
    """A new space: the INS index entry (unless the person already has an id: a representative or
    guardian invited in turn) and the account, both only if absent, the count, and the
    representatives' dependants entries."""
    patient_id = account["patient_id"]
    index = [_put({**ins_index_key(account["ins_digest"]), "patient_id": patient_id})] if new_person else []
    until = majority_day(date.fromisoformat(account["birth_date"])).isoformat()  # the representatives' end
    dependants = [
        _put(dependant_entry(r["person_id"], patient_id, LEGAL_REPRESENTATIVE, until), None)
        for r in account.get("representatives", [])
    ]
    return [
        *index,
        _put({**account_key(patient_id), **account}),
        _count_item(account["campaign_id"], patient_id, {"invited": 1}),
        *dependants,
    ]


def transition_items(
    account: dict, to_status: str, extra_set: dict[str, Any] | None = None, unless_locked_at: int | None = None
) -> list[dict]:
    """Moves an account from its current status to ``to_status`` iff nobody moved it first and,
    for a move made with the code, iff fewer than ``unless_locked_at`` failed attempts are counted:
    a wrong answer counted at the same moment (count_failed_attempt) and this move are ordered."""
    patient_id = account["patient_id"]
    sets = {"status": to_status, **(extra_set or {})}
    names = {f"#a{i}": name for i, name in enumerate(sets)}
    values = {f":a{i}": value for i, value in enumerate(sets.values())}
    values[":from"] = account["status"]
    condition = "#a0 = :from"
    if unless_locked_at is not None:
        condition += f" AND {_UNLOCKED}"
        values[":max"] = unless_locked_at
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


_UNLOCKED = "(attribute_not_exists(failed_attempts) OR failed_attempts < :max)"


def count_failed_attempt(key: dict, live_statuses: tuple[str, ...], max_failures: int) -> bool:
    """Counts a wrong answer to the code of the item at ``key`` (an account, a caregiver's
    invitation), in one conditional write: only while the code is live (the item in one of
    ``live_statuses``) and fewer than ``max_failures`` are counted. False when it was not counted:
    the code is locked, or was used in the meantime."""
    statuses = {f":s{i}": status for i, status in enumerate(live_statuses)}
    try:
        aws.table().update_item(
            Key=key,
            UpdateExpression="ADD failed_attempts :one",
            ConditionExpression=f"#status IN ({', '.join(statuses)}) AND {_UNLOCKED}",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":one": 1, ":max": max_failures, **statuses},
        )
        return True
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise


def mark_reminded(patient_id: str, at: str, notice: dict) -> bool:
    """Marks the account reminded, with its reminder ``notice`` pending, in one transaction; True
    only for the first caller: a duplicate timer run does not remind twice."""
    reminded = {
        "Update": {
            "TableName": aws.table().name,
            "Key": account_key(patient_id),
            "UpdateExpression": "SET reminded_at = :at",
            "ConditionExpression": "#s = :invited AND attribute_not_exists(reminded_at)",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":at": at, ":invited": "invited"},
        }
    }
    try:
        aws.table().meta.client.transact_write_items(TransactItems=[reminded, notice])
        return True
    except ClientError as error:
        if "ConditionalCheckFailed" in cancellation_reasons(error):
            return False
        raise


COHORT_SHARDS = 16
COHORT_PAGE = 100


cohort_partition = layout.cohort_shard


def cohort_index_keys(cohort_id: str, patient_id: str) -> dict:
    """The account's index keys: its cohort's shard, for the timer to find it."""
    return {
        "gsi1pk": cohort_partition(cohort_id, _shard_of(patient_id, COHORT_SHARDS)),
        "gsi1sk": layout.patient(patient_id),
    }


def cohort_page(cohort_id: str, shard: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
    """One page of a cohort shard's members, and the key the next page starts from (None: the end)."""
    query: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": Key("gsi1pk").eq(cohort_partition(cohort_id, shard)),
        "Limit": COHORT_PAGE,
    }
    return aws.query_page(query, start_key)


# Families ---------------------------------------------------------------------------------------


def dependant_entry(person_id: str, patient_id: str, relationship: str, until: str | None) -> dict:
    entry = {
        **layout.dependant(person_id, patient_id, relationship),
        "patient_id": patient_id,
        "relationship": relationship,
    }
    return {**entry, "until": until} if until else entry


def guardianship_items(patient_id: str, guardian: dict) -> list[dict]:
    """A guardian on the adult's space, in the guardian's dependants (only if they are not
    already this adult's guardian) and by id."""
    person_id, guardianship_id = guardian["person_id"], guardian["guardianship_id"]
    return [
        _put({**layout.guardian(patient_id, guardianship_id), **guardian}),
        _put(dependant_entry(person_id, patient_id, GUARDIAN, guardian.get("until"))),
        _put({**layout.guardianship(guardianship_id), "patient_id": patient_id, "person_id": person_id}),
    ]


def end_guardianship_items(guardianship: dict, guardianship_id: str) -> list[dict]:
    patient_id, person_id = guardianship["patient_id"], guardianship["person_id"]
    return [
        _delete(layout.guardian(patient_id, guardianship_id)),
        _delete(layout.dependant(person_id, patient_id, GUARDIAN)),
        _delete(layout.guardianship(guardianship_id)),
    ]


def get_guardianship(guardianship_id: str) -> dict | None:
    return aws.table().get_item(Key=layout.guardianship(guardianship_id), ConsistentRead=True).get("Item")


def dependants_page(person_id: str, limit: int, start_key: dict | None, today: str) -> tuple[list[dict], dict | None]:
    """A page of the spaces a person still acts on (an entry whose end has come, or a caregiver's
    invitation not accepted yet, is left out)."""
    query = {"KeyConditionExpression": Key("pk").eq(layout.dependants(person_id)), "ConsistentRead": True}

    def acting(entry: dict) -> bool:
        return entry.get("status", ACTIVE) == ACTIVE and (entry.get("until") is None or entry["until"] > today)

    return aws.visible_page(query, start_key, limit, acting)


# Caregivers: the adult's one caregiver is SPACE#CAREGIVER of their space (invited, active, then
# ended), and the caregiver's DEPENDANTS entry says invited, then active (gone once ended).
INVITED, ACTIVE, ENDED = "invited", "active", "ended"
_CAREGIVER_NAMES = {"#status": "status"}


def get_caregiver(patient_id: str) -> dict | None:
    return aws.table().get_item(Key=layout.caregiver(patient_id), ConsistentRead=True).get("Item")


def _caregiving_entry(caregiver: dict, status: str) -> dict:
    return {**dependant_entry(caregiver["person_id"], caregiver["patient_id"], CAREGIVER, None), "status": status}


def caregiver_invitation_items(invitation: dict, replaced: dict | None, now: str) -> list[dict]:
    """The invitation in the adult's space and in the invited person's dependants. It is written
    only while the space has no caregiver invited or active: none at all, or ``replaced`` (the
    item read: ended, or an invitation expired) still there as read; racing invitations, one wins."""
    patient_id = invitation["patient_id"]
    put: dict[str, Any] = {"TableName": aws.table().name, "Item": {**layout.caregiver(patient_id), **invitation}}
    items = [{"Put": put}, _put(_caregiving_entry(invitation, INVITED), None)]
    if replaced is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
        return items
    put["ConditionExpression"] = (
        "caregiver_id = :was AND (#status = :ended OR (#status = :invited AND expires_at <= :now))"
    )
    put["ExpressionAttributeNames"] = _CAREGIVER_NAMES
    put["ExpressionAttributeValues"] = {
        ":was": replaced["caregiver_id"],
        ":ended": ENDED,
        ":invited": INVITED,
        ":now": now,
    }
    if replaced["person_id"] != invitation["person_id"]:  # an expired invitation's entry goes with it
        items.append(_forget_caregiving(replaced))
    return items


def caregiver_acceptance_items(invitation: dict, at: str, max_failures: int) -> list[dict]:
    """The invitation becomes the active caregiving, iff it is still this one, pending, unexpired
    and fewer than ``max_failures`` wrong codes are counted (count_failed_attempt: ordered with it);
    the caregiver's dependants entry becomes active. (On a space closed since, the policy opens
    nothing to them.)"""
    patient_id = invitation["patient_id"]
    accept = {
        "Update": {
            "TableName": aws.table().name,
            "Key": layout.caregiver(patient_id),
            "UpdateExpression": "SET #status = :active, accepted_at = :at REMOVE code_digest",
            "ConditionExpression": f"caregiver_id = :id AND #status = :invited AND expires_at > :at AND {_UNLOCKED}",
            "ExpressionAttributeNames": _CAREGIVER_NAMES,
            "ExpressionAttributeValues": {
                ":active": ACTIVE,
                ":invited": INVITED,
                ":at": at,
                ":id": invitation["caregiver_id"],
                ":max": max_failures,
            },
        }
    }
    return [accept, _put(_caregiving_entry(invitation, ACTIVE), None)]


def caregiving_end_items(caregiver: dict, at: str) -> list[dict]:
    """The caregiving (or the invitation) ends, iff it is still this one, invited or active: the
    item stays, ended, so that the former caregiver is told so; their dependants entry goes."""
    end = {
        "Update": {
            "TableName": aws.table().name,
            "Key": layout.caregiver(caregiver["patient_id"]),
            "UpdateExpression": "SET #status = :ended, ended_at = :at REMOVE code_digest",
            "ConditionExpression": "caregiver_id = :id AND #status IN (:invited, :active)",
            "ExpressionAttributeNames": _CAREGIVER_NAMES,
            "ExpressionAttributeValues": {
                ":ended": ENDED,
                ":at": at,
                ":id": caregiver["caregiver_id"],
                ":invited": INVITED,
                ":active": ACTIVE,
            },
        }
    }
    return [end, _forget_caregiving(caregiver)]


def _forget_caregiving(caregiver: dict) -> dict:
    """The caregiver's dependants entry deleted (whether there or not)."""
    entry = layout.dependant(caregiver["person_id"], caregiver["patient_id"], CAREGIVER)
    return {"Delete": {"TableName": aws.table().name, "Key": entry}}


def caregiver_invitations(person_id: str) -> list[dict]:
    """The caregivers' invitations sent to this person and not yet accepted (from their dependants)."""
    entries = aws.query_all(
        KeyConditionExpression="pk = :pk",
        FilterExpression="relationship = :caregiver AND #status = :invited",
        ExpressionAttributeNames=_CAREGIVER_NAMES,
        ExpressionAttributeValues={":pk": layout.dependants(person_id), ":caregiver": CAREGIVER, ":invited": INVITED},
        ConsistentRead=True,
    )
    found = [get_caregiver(entry["patient_id"]) for entry in entries]
    return [item for item in found if item is not None and item["person_id"] == person_id]


def accounts(patient_ids: list[str]) -> dict[str, dict]:
    """Accounts by patient_id (one BatchGetItem per 100)."""
    keys = [account_key(patient_id) for patient_id in patient_ids]
    batches = [keys[start : start + spaces.BATCH_KEYS] for start in range(0, len(keys), spaces.BATCH_KEYS)]
    return {item["patient_id"]: item for batch in batches for item in aws.batch_get(batch)}


# --- Pending notices (enrolment/deferred_notices.py; keys in core.data.layout) --------------------
# Each item: patient_id, template, args_sealed, deferred_at, recipients? (indexes; none: every
# recipient). Every change writes one: the schedule's index is sharded as cohorts are.
PENDING = "NOTICES"
PENDING_SHARDS = 16


def pending_notice_item(patient_id: str, template: str, args_sealed: bytes, at: str) -> dict:
    """The transaction item recording a notice as pending, to commit with the change it tells of."""
    item = {
        **layout.deferred_notice(patient_id, template),
        "patient_id": patient_id,
        "template": template,
        "args_sealed": args_sealed,
        "deferred_at": at,
        "gsi1pk": f"{PENDING}#{counters.shard_of(patient_id, PENDING_SHARDS)}",
        "gsi1sk": at,
    }
    return {"Put": {"TableName": aws.table(TABLE).name, "Item": item}}


def notices_pending_since(cutoff: str) -> list[dict]:
    """Every notice recorded as pending at or before ``cutoff``, from every shard."""
    return [
        item
        for shard in range(PENDING_SHARDS)
        for item in aws.query_all(
            TABLE,
            IndexName="gsi1",
            KeyConditionExpression=Key("gsi1pk").eq(f"{PENDING}#{shard}") & Key("gsi1sk").lte(cutoff),
        )
    ]


def keep_notice_for(patient_id: str, template: str, recipients: list[int]) -> None:
    key = layout.deferred_notice(patient_id, template)
    aws.table(TABLE).update_item(
        Key=key, UpdateExpression="SET recipients = :r", ExpressionAttributeValues={":r": recipients}
    )


def clear_notice(patient_id: str, template: str) -> None:
    aws.table(TABLE).delete_item(Key=layout.deferred_notice(patient_id, template))


def start_timer(cohort_id: str, timer_input: dict) -> bool:
    """Starts the cohort's timer, named after the cohort; starting it again with the same input
    returns the running execution. False when that execution has already ended."""
    try:
        aws.client("stepfunctions").start_execution(
            stateMachineArn=settings().enrolment_state_machine_arn, name=cohort_id, input=json.dumps(timer_input)
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        return False
    return True


def count_wrong_caregiver_code(patient_id: str, max_failures: int) -> bool:
    """Counts a wrong code against the space's caregiver invitation (count_failed_attempt)."""
    return count_failed_attempt(layout.caregiver(patient_id), (INVITED,), max_failures)
