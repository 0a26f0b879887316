"""Health profile entries and measurements in DynamoDB (the space's partition; keys in core.data.layout:
PROFILE#, MEAS# with its by-time index, MEASID#).

The measurement sort key puts kind first and the UTC time (ISO 8601, fixed width) second, so a
kind's series over a period is one Query on a key range, oldest first: never a scan, never a
filter. The index key does the same for all kinds together. Numbers are stored as Decimal
(DynamoDB) and come back as int/float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.core.data import aws, layout
from chalicelib.core.data.layout import MEASUREMENT_POINTER_PREFIX as POINTER
from chalicelib.core.data.layout import MEASUREMENT_PREFIX as MEASUREMENT
from chalicelib.core.data.layout import PROFILE_PREFIX as PROFILE
from chalicelib.core.data.layout import measurement_kind_prefix as kind_prefix
from chalicelib.core.data.layout import patient as partition

END = "~"  # sorts after every character used in sort keys
entry_key = layout.profile_entry
TABLE = layout.PROFILE_TABLE
pointer_key = layout.measurement_pointer


def to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    return value


def from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    return value


def _put(item: dict) -> dict:
    return aws.put_new(to_dynamo(item), TABLE)


def _delete(key: dict) -> dict:
    return {"Delete": {"TableName": aws.table(TABLE).name, "Key": key, "ConditionExpression": "attribute_exists(pk)"}}


SINGLE = "only"  # the sort key's last part for a section of one entry at most


def _entry_key(patient_id: str, section: str, entry_id: str, single: bool) -> dict:
    """A section of one entry at most keeps it under the section's one key: a second one's
    conditional put fails, whoever races (no read-then-write)."""
    return entry_key(patient_id, section, SINGLE if single else entry_id)


# --- writes (transaction items, committed with their history event) ----------------------------
def put_entry_items(patient_id: str, section: str, item: dict, single: bool = False) -> list[dict]:
    return [_put({**_entry_key(patient_id, section, item["entry_id"], single), **item})]


def delete_entry_items(patient_id: str, section: str, entry_id: str, single: bool = False) -> list[dict]:
    delete = _delete(_entry_key(patient_id, section, entry_id, single))
    if single:  # the entry named, not whichever holds the key now
        delete["Delete"]["ConditionExpression"] += " AND entry_id = :entry_id"
        delete["Delete"]["ExpressionAttributeValues"] = {":entry_id": entry_id}
    return [delete]


def put_measurement_items(patient_id: str, item: dict) -> list[dict]:
    key = layout.measurement(patient_id, item["kind"], item["measured_at"], item["entry_id"])
    by_time = {"gsi1pk": all_kinds(patient_id), "gsi1sk": f"{item['measured_at']}#{item['entry_id']}"}
    sk = key["sk"]
    return [
        _put({**key, **item, **by_time}),
        _put({**pointer_key(patient_id, item["entry_id"]), "measurement_sk": sk}),
    ]


def delete_measurement_items(patient_id: str, entry_id: str, sk: str) -> list[dict]:
    return [_delete({"pk": partition(patient_id), "sk": sk}), _delete(pointer_key(patient_id, entry_id))]


# --- reads --------------------------------------------------------------------------------------
def measurement_sk_of(patient_id: str, entry_id: str) -> str | None:
    item = aws.table(TABLE).get_item(Key=pointer_key(patient_id, entry_id), ConsistentRead=True).get("Item")
    return item["measurement_sk"] if item else None


def _query_all(**query: Any) -> list[dict]:
    return [from_dynamo(item) for item in aws.query_all(TABLE, **query)]


def entries(patient_id: str) -> list[dict]:
    """Every entry of every section (measurements apart), by section then creation: one query."""
    return _query_all(KeyConditionExpression=Key("pk").eq(partition(patient_id)) & Key("sk").begins_with(PROFILE))


def all_measurements(patient_id: str) -> list[dict]:
    """Every measurement, by kind then time."""
    return _query_all(KeyConditionExpression=Key("pk").eq(partition(patient_id)) & Key("sk").begins_with(MEASUREMENT))


def latest_measurement(patient_id: str, kind: str) -> dict | None:
    result = aws.table(TABLE).query(
        KeyConditionExpression=Key("pk").eq(partition(patient_id)) & Key("sk").begins_with(kind_prefix(kind)),
        ScanIndexForward=False,
        Limit=1,
    )
    items = result.get("Items", [])
    return from_dynamo(items[0]) if items else None


all_kinds = layout.measurements_by_time


def series(
    patient_id: str, kind: str | None, start: str | None, end: str | None, limit: int, start_key: dict | None
) -> tuple[list[dict], dict | None]:
    """A page of one kind's measurements (every kind's, on the index, when ``kind`` is None)
    between two ISO timestamps (both included), oldest first."""
    if kind is None:
        key, prefix, where = Key("gsi1pk").eq(all_kinds(patient_id)), "", {"IndexName": "gsi1"}
        sort = Key("gsi1sk")
    else:
        key, prefix, where = Key("pk").eq(partition(patient_id)), kind_prefix(kind), {}
        sort = Key("sk")
    low, high = prefix + (start or ""), prefix + (end or "") + END
    query: dict[str, Any] = {
        **where,
        "KeyConditionExpression": key & (sort.between(low, high) if low else sort.lte(high)),  # no empty key
        "ScanIndexForward": True,
        "Limit": limit,
    }
    items, last_key = aws.query_page(query, start_key, TABLE)
    return [from_dynamo(item) for item in items], last_key


def _range_query(
    patient_id: str, kind: str | None, start: str | None, end: str | None, newest_first: bool
) -> dict[str, Any]:
    """One kind's measurements (every kind's, on the index, when ``kind`` is None) measured in
    [start, end) (ISO timestamps, each open when None)."""
    if kind is None:
        key, prefix, where, sort = Key("gsi1pk").eq(all_kinds(patient_id)), "", {"IndexName": "gsi1"}, Key("gsi1sk")
    else:
        key, prefix, where, sort = Key("pk").eq(partition(patient_id)), kind_prefix(kind), {}, Key("sk")
    low, high = prefix + (start or ""), prefix + (end if end is not None else END)
    return {
        **where,
        "KeyConditionExpression": key & (sort.between(low, high) if low else sort.lt(high)),  # no empty key
        "ScanIndexForward": not newest_first,
    }


def search_page(
    patient_id: str,
    kind: str | None,
    unit: str | None,
    period: tuple[str | None, str | None],
    count: int,
    start_key: dict | None,
    newest_first: bool,
) -> tuple[list[dict], dict | None]:
    """A page of measurements (of one unit when ``unit``: a glucose's two LOINC codes), and the key
    the next page starts after, only when one follows (one item read past the page says so)."""
    query = _range_query(patient_id, kind, *period, newest_first)
    names = ("pk", "sk") if kind is not None else ("pk", "sk", "gsi1pk", "gsi1sk")
    items, next_key = aws.visible_page(
        query, start_key, count, lambda item: unit is None or item["unit"] == unit, names, TABLE
    )
    return [from_dynamo(item) for item in items], next_key


def count(patient_id: str, kind: str | None, unit: str | None, period: tuple[str | None, str | None]) -> int:
    """How many measurements a search matches, every page (FHIR's _total=accurate): counted by DynamoDB."""
    query: dict[str, Any] = {**_range_query(patient_id, kind, *period, False), "Select": "COUNT"}
    if unit is not None:
        query["FilterExpression"] = Attr("unit").eq(unit)
    total, start_key = 0, None
    while True:
        answer = aws.table(TABLE).query(**query, **({"ExclusiveStartKey": start_key} if start_key else {}))
        total += answer["Count"]
        start_key = answer.get("LastEvaluatedKey")
        if not start_key:
            return total


def owned_prefixes() -> tuple[str, ...]:
    """What this module stores in a space (closure with immediate deletion)."""
    return (PROFILE, MEASUREMENT, POINTER)
