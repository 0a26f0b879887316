"""Transaction items for the access settings of a space (keys in core.data.layout: the account, SPACE#GRANT#,
SPACE#BLOCK#, SPACE#EMERGENCY#, SPACE#REGULATION#).

Nothing here writes on its own: each builder returns DynamoDB transaction items that the service
commits together with the activity event (``core.history.journal.commit(..., writes=...)``).
Every item carries a condition so that a concurrent change makes the transaction fail (and the
caller answer 409) instead of being silently overwritten:

* a grant, a treating-doctor designation or an emergency session is written only while there is
  no block on that professional (ConditionCheck ``attribute_not_exists(pk)`` on the block key);
* a block removes the grant and the emergency and regulation sessions in the same transaction, and removes the
  treating-doctor designation iff it still names that professional;
* account updates require the account to exist and the space to be open.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.data import aws, layout
from chalicelib.core.data.layout import SPACE_OPEN_CONDITION, SPACE_OPEN_NAMES, SPACE_OPEN_VALUES
from chalicelib.core.policy.decision import EMERGENCY_ACCESS, REGULATION_ACCESS, Pathway

# Where each emergency pathway's sessions are (core.policy.decision PATHWAYS).
SESSION_KEY = {EMERGENCY_ACCESS: layout.emergency, REGULATION_ACCESS: layout.regulation}


def _table() -> str:
    return aws.table().name


def _not_blocked(patient_id: str, rpps: str) -> dict:
    return layout.not_blocked(_table(), patient_id, rpps)


def _account_update(patient_id: str, expression: str, condition: str, names: dict, values: dict) -> dict:
    update: dict[str, Any] = {
        "TableName": _table(),
        "Key": layout.account(patient_id),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
    }
    if values:
        update["ExpressionAttributeValues"] = values
    return {"Update": update}


# --- grants ------------------------------------------------------------------------------------
def _space_open(patient_id: str) -> dict:
    return layout.space_is_open(_table(), patient_id)


def grant_items(patient_id: str, grant: dict) -> list[dict]:
    """Creates or replaces the grant, only while the space is open and the professional not blocked."""
    return [
        {"Put": {"TableName": _table(), "Item": {**layout.grant(patient_id, grant["rpps"]), **grant}}},
        _not_blocked(patient_id, grant["rpps"]),
        _space_open(patient_id),
    ]


def revoke_items(patient_id: str, rpps: str) -> list[dict]:
    """Removes the grant iff it still exists (a concurrent revocation is not recorded twice)."""
    return [
        {
            "Delete": {
                "TableName": _table(),
                "Key": layout.grant(patient_id, rpps),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
    ]


# --- blocks ------------------------------------------------------------------------------------
def block_items(patient_id: str, block: dict, treating_doctor: str | None) -> list[dict]:
    """Blocks one professional: drops their grant and emergency session; if they are the treating
    doctor (as read by the caller) the designation goes too, else the account must still not name
    them (a concurrent designation makes this fail)."""
    rpps = block["rpps"]
    table = _table()
    items: list[dict] = [
        aws.put_new({**layout.block(patient_id, rpps), **block}),
        {"Delete": {"TableName": table, "Key": layout.grant(patient_id, rpps)}},
        *({"Delete": {"TableName": table, "Key": key(patient_id, rpps)}} for key in SESSION_KEY.values()),
    ]
    names = {"#td": "treating_doctor"}
    values = {":rpps": rpps}
    if treating_doctor == rpps:
        items.append(_account_update(patient_id, "REMOVE #td", "attribute_exists(pk) AND #td = :rpps", names, values))
    else:
        items.append(
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": layout.account(patient_id),
                    "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(#td) OR #td <> :rpps)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )
    return items


def unblock_items(patient_id: str, rpps: str) -> list[dict]:
    return [
        {
            "Delete": {
                "TableName": _table(),
                "Key": layout.block(patient_id, rpps),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
    ]


# --- treating doctor ---------------------------------------------------------------------------
def set_treating_doctor_items(patient_id: str, rpps: str, previous: str | None) -> list[dict]:
    """Names the treating doctor iff the designation is still ``previous`` and they are not blocked."""
    names = {"#td": "treating_doctor", **SPACE_OPEN_NAMES}
    values = {":rpps": rpps, **SPACE_OPEN_VALUES}
    condition = SPACE_OPEN_CONDITION
    if previous is None:
        condition += " AND attribute_not_exists(#td)"
    else:
        condition += " AND #td = :previous"
        values[":previous"] = previous
    return [
        _account_update(patient_id, "SET #td = :rpps", condition, names, values),
        _not_blocked(patient_id, rpps),
    ]


def remove_treating_doctor_items(patient_id: str, previous: str) -> list[dict]:
    names = {"#td": "treating_doctor"}
    return [
        _account_update(
            patient_id, "REMOVE #td", "attribute_exists(pk) AND #td = :previous", names, {":previous": previous}
        )
    ]


# --- emergency access (break-glass and regulation) ----------------------------------------------
def setting_items(patient_id: str, pathway: Pathway, allowed: bool, open_sessions: list[str]) -> list[dict]:
    """Sets the patient's choice about one emergency pathway (its own account attribute, the other
    left as it is); opting out also closes that pathway's sessions still open."""
    names = {"#allowed": pathway.allowed_field, **SPACE_OPEN_NAMES}
    items = [
        _account_update(
            patient_id,
            "SET #allowed = :allowed",
            SPACE_OPEN_CONDITION,
            names,
            {":allowed": allowed, **SPACE_OPEN_VALUES},
        )
    ]
    if not allowed:
        table = _table()
        key = SESSION_KEY[pathway.action]
        items += [{"Delete": {"TableName": table, "Key": key(patient_id, rpps)}} for rpps in open_sessions]
    return items


def session_items(patient_id: str, pathway: Pathway, session: dict) -> list[dict]:
    """Opens (or renews) a session iff the space is open, the patient still allows this pathway
    and the professional is not blocked."""
    table = _table()
    rpps = session["rpps"]
    return [
        {"Put": {"TableName": table, "Item": {**SESSION_KEY[pathway.action](patient_id, rpps), **session}}},
        _not_blocked(patient_id, rpps),
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": layout.account(patient_id),
                "ConditionExpression": SPACE_OPEN_CONDITION
                + " AND (attribute_not_exists(#allowed) OR #allowed = :true)",
                "ExpressionAttributeNames": {"#allowed": pathway.allowed_field, **SPACE_OPEN_NAMES},
                "ExpressionAttributeValues": {":true": True, **SPACE_OPEN_VALUES},
            }
        },
    ]
