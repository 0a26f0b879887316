"""Reading a person's space: the account (with a minor's legal representatives), its access
settings and its guardians (keys in core.data.layout). Everything the access decision needs shares
the SPACE# prefix of the spaces table: one query loads it; an app's request needs its connection
too, the catalogue table's (``connected_app``, one call). (The activity history's head is the
history table's: core.history.journal reads it when an event is appended.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.data import aws, layout


@dataclass
class SpaceItems:
    """The raw items of one space, grouped by kind."""

    account: dict[str, Any]
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    emergencies: dict[str, dict[str, Any]] = field(default_factory=dict)
    regulations: dict[str, dict[str, Any]] = field(default_factory=dict)  # SAMU regulators' sessions
    guardians: dict[str, dict[str, Any]] = field(default_factory=dict)  # by guardianship_id
    caregiver: dict[str, Any] | None = None  # the adult's caregiver, invited, active or ended
    # by app_id: the app's connection to this space, read once per request for an app's token
    # (core.policy.gate actor_of), None if there is none or the app is not referenced
    app_connections: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @property
    def patient_id(self) -> str:
        return layout.patient_id_of(self.account["pk"])

    @property
    def is_open(self) -> bool:
        """Active or auto-created: not invited, opposed or closed."""
        return self.account.get("status") in layout.OPEN_STATUSES


_GROUPS = {
    layout.GRANT_PREFIX: "grants",
    layout.BLOCK_PREFIX: "blocks",
    layout.EMERGENCY_PREFIX: "emergencies",
    layout.REGULATION_PREFIX: "regulations",
    layout.GUARDIAN_PREFIX: "guardians",
}


def load(patient_id: str) -> SpaceItems | None:
    items = aws.query_all(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": layout.patient(patient_id), ":prefix": layout.SPACE_PREFIX},
        ConsistentRead=True,
    )
    account = next((item for item in items if item["sk"] == layout.ACCOUNT), None)
    return None if account is None else _assemble(account, items)


def _assemble(account: dict[str, Any], items: list[dict[str, Any]]) -> SpaceItems:
    space = SpaceItems(account=account)
    for item in items:
        if item["sk"] == layout.CAREGIVER:
            space.caregiver = item
        for prefix, group in _GROUPS.items():
            if item["sk"].startswith(prefix):
                getattr(space, group)[item["sk"].removeprefix(prefix)] = item
    return space


BATCH_KEYS = 100  # BatchGetItem's limit


def load_as_seen_by(patient_ids: list[str], rpps: str) -> dict[str, SpaceItems]:
    """Several spaces at once, each holding only what a decision about this professional reads:
    the account and the grant, block and emergency session naming them (a professional's
    decisions never look at another professional's settings). Spaces that do not exist are absent.
    One BatchGetItem per 25 spaces, instead of one query per space."""
    keys = [
        key
        for patient_id in dict.fromkeys(patient_ids)
        for key in (
            layout.account(patient_id),
            layout.grant(patient_id, rpps),
            layout.block(patient_id, rpps),
            layout.emergency(patient_id, rpps),
            layout.regulation(patient_id, rpps),
        )
    ]
    by_space: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(keys), BATCH_KEYS):
        for item in aws.batch_get(keys[start : start + BATCH_KEYS]):
            by_space.setdefault(layout.patient_id_of(item["pk"]), []).append(item)
    return {
        patient_id: _assemble(account, items)
        for patient_id, items in by_space.items()
        if (account := next((item for item in items if item["sk"] == layout.ACCOUNT), None))
    }


def represented_by(person_id: str) -> list[str]:
    """The spaces a person is recorded as acting on, as legal representative, guardian or
    caregiver (their DEPENDANTS partition); whether they still may is the policy's to decide."""
    entries = aws.query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": layout.dependants(person_id)},
        ConsistentRead=True,
    )
    return list(dict.fromkeys(entry["patient_id"] for entry in entries))


def get_account(patient_id: str) -> dict[str, Any] | None:
    account: dict[str, Any] | None = (
        aws.table().get_item(Key=layout.account(patient_id), ConsistentRead=True).get("Item")
    )
    return account


def patient_id_for(ins_digest: str) -> str | None:
    """The person's opaque id (their space's, if they have one: see core.data.layout's INS index)."""
    item = aws.table().get_item(Key=layout.ins_index(ins_digest)).get("Item")
    return item["patient_id"] if item else None


def person_id_for(ins_digest: str) -> str:
    """The opaque id of the person with this INS, given them now if they have none: one atomic
    write, so two callers naming the same new person get the same id."""
    from chalicelib.core.ids import new_id

    item = aws.table().update_item(
        Key=layout.ins_index(ins_digest),
        UpdateExpression="SET patient_id = if_not_exists(patient_id, :new)",
        ExpressionAttributeValues={":new": new_id("pat")},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    person_id: str = item["patient_id"]
    return person_id


def connected_app(patient_id: str, app_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The catalogue's app and its connection to this space (the CONNAPP# item: scopes and
    connection id), each None if absent: one strongly consistent BatchGetItem of the catalogue
    table, so a revocation or a withdrawal applies to the very next request of the app's tokens."""
    keys = [layout.app(app_id), layout.app_connection(patient_id, app_id)]
    found = {item["pk"]: item for item in aws.batch_get(keys, layout.CATALOGUE_TABLE)}
    return found.get(keys[0]["pk"]), found.get(keys[1]["pk"])
