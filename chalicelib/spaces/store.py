"""A person's space in DynamoDB: the account, the INS index, the access settings.

    pk = INS#<hmac(INS)>   sk = INS                      {patient_id}   find a space by INS
    pk = PAT#<patient_id>  sk = SPACE#ACCOUNT            status, identity, enrolment, settings
    pk = PAT#<patient_id>  sk = SPACE#GRANT#<rpps>       {granted_at, expires_at}
    pk = PAT#<patient_id>  sk = SPACE#BLOCK#<rpps>       {blocked_at}
    pk = PAT#<patient_id>  sk = SPACE#EMERGENCY#<rpps>   {opened_at, expires_at, reason_sealed}
    pk = PAT#<patient_id>  sk = SPACE#CONNECTION#<id>    {app_id, scopes, created_at}
    pk = PAT#<patient_id>  sk = SPACE#ACTIVITY_HEAD      the activity chain's head (activity.store)

Everything the access decision needs shares the SPACE# prefix: one query loads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.core import aws

ACCOUNT = "SPACE#ACCOUNT"


def partition(patient_id: str) -> str:
    return f"PAT#{patient_id}"


def account_key(patient_id: str) -> dict:
    return {"pk": partition(patient_id), "sk": ACCOUNT}


def ins_index_key(ins_digest: str) -> dict:
    return {"pk": f"INS#{ins_digest}", "sk": "INS"}


@dataclass
class SpaceItems:
    """The raw items of one space, grouped by kind."""

    account: dict
    grants: dict[str, dict] = field(default_factory=dict)
    blocks: dict[str, dict] = field(default_factory=dict)
    emergencies: dict[str, dict] = field(default_factory=dict)
    connections: dict[str, dict] = field(default_factory=dict)
    activity_head: dict | None = None


_GROUPS = {"GRANT": "grants", "BLOCK": "blocks", "EMERGENCY": "emergencies", "CONNECTION": "connections"}


def load(patient_id: str) -> SpaceItems | None:
    items = aws.query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": partition(patient_id), ":prefix": "SPACE#"},
        ConsistentRead=True,
    )
    account = next((item for item in items if item["sk"] == ACCOUNT), None)
    return None if account is None else _assemble(account, items)


def _assemble(account: dict, items: list[dict]) -> SpaceItems:
    space = SpaceItems(account=account)
    for item in items:
        if item["sk"] == "SPACE#ACTIVITY_HEAD":
            space.activity_head = item
        _, kind, *rest = item["sk"].split("#", 2)
        if kind in _GROUPS and rest:
            getattr(space, _GROUPS[kind])[rest[0]] = item
    return space


BATCH_KEYS = 100  # BatchGetItem's limit


def load_as_seen_by(patient_ids: list[str], rpps: str) -> dict[str, SpaceItems]:
    """Several spaces at once, each holding only what a decision about this professional reads:
    the account and the grant, block and emergency session naming them (a professional's
    decisions never look at another professional's settings). Spaces that do not exist are absent.
    One BatchGetItem per 25 spaces, instead of one query per space."""
    keys = [
        {"pk": partition(patient_id), "sk": sk}
        for patient_id in dict.fromkeys(patient_ids)
        for sk in (ACCOUNT, f"SPACE#GRANT#{rpps}", f"SPACE#BLOCK#{rpps}", f"SPACE#EMERGENCY#{rpps}")
    ]
    by_space: dict[str, list[dict]] = {}
    for start in range(0, len(keys), BATCH_KEYS):
        for item in aws.batch_get(keys[start : start + BATCH_KEYS]):
            by_space.setdefault(item["pk"].removeprefix("PAT#"), []).append(item)
    return {
        patient_id: _assemble(account, items)
        for patient_id, items in by_space.items()
        if (account := next((item for item in items if item["sk"] == ACCOUNT), None))
    }


def get_account(patient_id: str) -> dict | None:
    return aws.table().get_item(Key=account_key(patient_id), ConsistentRead=True).get("Item")


def patient_id_for(ins_digest: str) -> str | None:
    item = aws.table().get_item(Key=ins_index_key(ins_digest)).get("Item")
    return item["patient_id"] if item else None
