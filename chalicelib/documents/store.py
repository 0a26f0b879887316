"""Document metadata in DynamoDB (keys in core.data.layout: DOC#<document_id> in the space, in the
release timer's index while invisible to the patient, DOCID#<document_id> saying which space a
document is in); content in S3 through core.security.blobs. Legacy DMP imports add a LEGACY# marker per
imported document, and write their migration's progress (counters, rejects, "archive counted"
markers) in the same transactions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.core import clock
from chalicelib.core.data import aws, counters, layout, spaces
from chalicelib.core.data.layout import DOCUMENT_PREFIX as PREFIX
from chalicelib.core.errors import is_condition_failure
from chalicelib.core.settings import settings

key = layout.document
TABLE = (
    layout.DOCUMENTS_TABLE
)  # metadata, pointers, legacy markers, content markers; the space's access inputs are the spaces table's


def owner(patient_id: str, document_id: str) -> str:
    k = key(patient_id, document_id)
    return f"{k['pk']}|{k['sk']}"


def release_index_keys(patient_id: str, document_id: str, release_at) -> dict:
    """While a document is invisible to its patient: its entry in the release timer's index."""
    return {
        "gsi1pk": layout.release_bucket(release_at.date().isoformat()),
        "gsi1sk": f"{clock.iso(release_at)}#{patient_id}#{document_id}",
    }


def latest_of_type(patient_id: str, type_code: str, keep: Callable[[dict], bool]) -> dict | None:
    """The document of a type (its code) with the latest date that ``keep`` accepts (the latest
    deposited of that date): the type's search index read, a handful of documents for the types
    asked for (advance directives), never the space's whole list."""
    documents = aws.query_all(
        TABLE,
        IndexName=layout.DOCUMENTS_BY_TYPE_INDEX,
        KeyConditionExpression=Key("gsi3pk").eq(layout.documents_of_type(patient_id, type_code)),
    )
    kept = [document for document in documents if keep(document)]
    return max(kept, key=lambda document: (document["date"], document["gsi3sk"]), default=None)


def search_index_keys(patient_id: str, type_code: str, created_at: str, document_id: str) -> dict:
    """A document's entries in the search indexes (FHIR searches: by deposit time, of any type or
    of its own)."""
    at = layout.document_time_key(created_at, document_id)
    return {
        "gsi2pk": layout.documents_by_time(patient_id),
        "gsi2sk": at,
        "gsi3pk": layout.documents_of_type(patient_id, type_code),
        "gsi3sk": at,
    }


def object_key(document_id: str) -> str:
    return f"documents/{document_id}"


def get(patient_id: str, document_id: str) -> dict | None:
    return aws.table(TABLE).get_item(Key=key(patient_id, document_id)).get("Item")


def put_item(item: dict) -> dict:
    return aws.put_new({**key(item["patient_id"], item["document_id"]), **item}, TABLE)


def put_pointer_item(patient_id: str, document_id: str) -> dict:
    return aws.put_new({**layout.document_pointer(document_id), "patient_id": patient_id}, TABLE)


def delete_pointer_item(document_id: str) -> dict:
    return {"Delete": {"TableName": aws.table(TABLE).name, "Key": layout.document_pointer(document_id)}}


def patient_of(document_id: str) -> str | None:
    """The space a document is in, by its id alone."""
    item = aws.table(TABLE).get_item(Key=layout.document_pointer(document_id)).get("Item")
    return item["patient_id"] if item else None


def delete_item(patient_id: str, document_id: str) -> dict:
    return {
        "Delete": {
            "TableName": aws.table(TABLE).name,
            "Key": key(patient_id, document_id),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


def update_item(
    patient_id: str,
    document_id: str,
    sets: dict[str, Any],
    removes: tuple[str, ...] = (),
    condition: str = "attribute_exists(pk)",
    values: dict | None = None,
    names: dict | None = None,
) -> dict:
    names = {**{f"#f{i}": name for i, name in enumerate([*sets, *removes])}, **(names or {})}
    expression = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(sets)))
    if removes:
        expression += " REMOVE " + ", ".join(f"#f{len(sets) + i}" for i in range(len(removes)))
    return {
        "Update": {
            "TableName": aws.table(TABLE).name,
            "Key": key(patient_id, document_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {**{f":f{i}": v for i, v in enumerate(sets.values())}, **(values or {})},
        }
    }


def _space_documents(patient_id: str) -> dict[str, Any]:
    return {
        "KeyConditionExpression": Key("pk").eq(layout.patient(patient_id)) & Key("sk").begins_with(PREFIX),
        "ScanIndexForward": False,  # newest first (sortable ids)
    }


def _newest_first(patient_id: str, document_type: str | None) -> dict[str, Any]:
    query = _space_documents(patient_id)
    if document_type:
        query["FilterExpression"] = Attr("type").eq(document_type)
    return query


def page(
    patient_id: str, limit: int, start_key: dict | None, document_type: str | None
) -> tuple[list[dict], dict | None]:
    return aws.query_page({**_newest_first(patient_id, document_type), "Limit": limit}, start_key, TABLE)


def visible_page(
    patient_id: str, limit: int, start_key: dict | None, document_type: str | None, visible: Callable[[dict], bool]
) -> tuple[list[dict], dict | None]:
    """A full page of the documents ``visible`` accepts, newest first (core.data.aws.visible_page: the
    others leave no trace in the page or its cursor). Their status is the caller's to filter: a
    document superseded by one the caller may not read is current for them."""
    return aws.visible_page(_newest_first(patient_id, document_type), start_key, limit, visible, kind=TABLE)


# --- searches a page at a time (FHIR): the search indexes, newest first ----------------------
# A page reads at most this many index pages per type searched: a run of documents the caller may
# not see longer than that ends the page short (with a next link), never reads the whole space.
READS_PER_PAGE = 3


def position(item: dict) -> str:
    """An item's place in the search indexes (the same in both), for a cursor."""
    return layout.document_time_key(item["created_at"], item["document_id"])


@dataclass(frozen=True)
class Window:
    """The part of the search indexes a search covers: deposited in [since, until), before a
    place already given (a cursor's), each None when open."""

    since: str | None = None
    until: str | None = None
    before: str | None = None

    def upper(self) -> str | None:
        bounds = [bound for bound in (self.until, self.before) if bound is not None]
        return min(bounds) if bounds else None


class _Partition:
    """One index partition read newest first, an index page at a time, within a window."""

    def __init__(self, index: str, partition: str, window: Window, limit: int):
        self.index, self.window, self.upper = index, window, window.upper()
        sort = Key(f"{index}sk")
        condition = Key(f"{index}pk").eq(partition)
        if window.since is not None and self.upper is not None:
            condition &= sort.between(window.since, self.upper)
        elif window.since is not None:
            condition &= sort.gte(window.since)
        elif self.upper is not None:
            condition &= sort.lt(self.upper)
        self.query = {"IndexName": index, "KeyConditionExpression": condition, "ScanIndexForward": False}
        self.limit, self.done, self.reads = limit, False, 0
        self.buffer: list[dict] = []
        self.start_key: dict | None = None

    def place(self, item: dict) -> str:
        return item[f"{self.index}sk"]

    def fill(self) -> None:
        items, self.start_key = aws.query_page({**self.query, "Limit": self.limit}, self.start_key, TABLE)
        self.reads += 1
        # ``between`` holds its upper bound: the place before which this window ends is not in it
        self.buffer += [item for item in items if self.upper is None or self.place(item) < self.upper]
        self.done = not self.start_key


def _partitions(patient_id: str, type_codes: frozenset[str] | None, window: Window, limit: int) -> list[_Partition]:
    if type_codes is None:
        return [_Partition(layout.DOCUMENTS_BY_TIME_INDEX, layout.documents_by_time(patient_id), window, limit)]
    return [
        _Partition(layout.DOCUMENTS_BY_TYPE_INDEX, layout.documents_of_type(patient_id, code), window, limit)
        for code in sorted(type_codes)
    ]


@dataclass
class SearchPage:
    items: list[dict]
    next_before: str | None  # where the next page starts (a cursor's place), None: no more
    complete: bool  # every item of the window was read: ``items`` are all there is


def search_page(
    patient_id: str,
    type_codes: frozenset[str] | None,
    window: Window,
    count: int,
    keep: Callable[[dict], bool],
) -> SearchPage:
    """Up to ``count`` documents ``keep`` accepts, newest first, of these types (merged from their
    index partitions), read an index page at a time. The next page starts after the last one
    returned, so the ones ``keep`` refuses leave no trace in a full page nor in its cursor; only
    when READS_PER_PAGE index pages of a partition held too few does the page end short, its next
    page starting after the last document read (the cursor is sealed: core.http.pagination)."""
    partitions = _partitions(patient_id, type_codes, window, count + 1)
    kept: list[dict] = []
    last_read: str | None = None
    while len(kept) <= count:
        for partition in partitions:
            if not partition.buffer and not partition.done:
                if partition.reads >= READS_PER_PAGE:
                    return SearchPage(kept, last_read, complete=False)
                partition.fill()
        live = [partition for partition in partitions if partition.buffer]
        if not live:
            return SearchPage(kept, None, complete=True)
        newest = max(live, key=lambda partition: partition.place(partition.buffer[0]))
        item = newest.buffer.pop(0)
        last_read = newest.place(item)
        if keep(item):
            kept.append(item)
    return SearchPage(kept[:count], position(kept[count - 1]), complete=False)


def count_matching(
    patient_id: str, type_codes: frozenset[str] | None, window: Window, keep: Callable[[dict], bool]
) -> int:
    """How many documents of the window ``keep`` accepts: every one read (``_total=accurate``)."""
    total = 0
    for partition in _partitions(patient_id, type_codes, window, 1000):
        while not partition.done:
            partition.fill()
            total += sum(1 for item in partition.buffer if keep(item))
            partition.buffer = []
    return total


def all_of(patient_id: str) -> list[dict]:
    items, start_key = [], None
    while True:
        batch, start_key = page(patient_id, 500, start_key, None)
        items += batch
        if not start_key:
            return items


def due_for_release(day: str, until: str) -> list[dict]:
    return (
        aws.table(TABLE)
        .query(
            IndexName="gsi1",
            KeyConditionExpression=Key("gsi1pk").eq(layout.release_bucket(day)) & Key("gsi1sk").lte(until),
        )
        .get("Items", [])
    )


# --- legacy DMP imports (keys in core.data.layout; the migration module reads the progress) ---------
MIGRATION_SHARDS = 16  # a migration's counters: its archives are counted side by side
COUNTED_FOR_DAYS = 90  # a migration's "archive counted" markers expire (TTL) long after it ends


@dataclass
class ImportState:
    """What an archive's import finds, in one read: has this migration counted it, is the space
    open, the chain's head, and which of its documents are already in the space."""

    counted: bool
    space_open: bool
    head: dict | None
    imported: set[str]  # uniqueIds


def import_state(migration_id: str, archive_key: str, patient_id: str, unique_ids: list[str]) -> ImportState:
    def at(key: dict) -> tuple[str, str]:
        return key["pk"], key["sk"]

    counted, account, head = (
        layout.migration_archive(migration_id, archive_key),
        layout.account(patient_id),
        layout.activity_head(patient_id),
    )
    markers = {at(layout.legacy_document(patient_id, unique_id)): unique_id for unique_id in unique_ids}
    marker_keys = [{"pk": pk, "sk": sk} for pk, sk in markers]
    first = spaces.BATCH_KEYS - 3  # the first batch also reads the account, the head and the counted marker
    batches: list[dict[str | None, list[dict[str, Any]]]] = [
        {None: [account], layout.HISTORY_TABLE: [head], layout.MIGRATION_TABLE: [counted], TABLE: marker_keys[:first]}
    ]
    for start in range(first, len(marker_keys), spaces.BATCH_KEYS):
        more: dict[str | None, list[dict[str, Any]]] = {TABLE: marker_keys[start : start + spaces.BATCH_KEYS]}
        batches.append(more)
    found: dict[tuple[str, str], dict] = {}
    for batch in batches:
        found.update({at(item): item for items in aws.batch_get_tables(batch).values() for item in items})
    status = found.get(at(account), {}).get("status")
    return ImportState(
        counted=at(counted) in found,
        space_open=status in layout.OPEN_STATUSES,
        head=found.get(at(head)),
        imported={unique_id for key, unique_id in markers.items() if key in found},
    )


def master_marker_item(patient_id: str, unique_id: str, document_id: str) -> dict:
    """A deposited document's master identifier, kept unique in the space by the same marker as an
    imported one's uniqueId (written only if none is there: the deposit's transaction fails else)."""
    return aws.put_new({**layout.legacy_document(patient_id, unique_id), "document_id": document_id}, TABLE)


def document_of_master(patient_id: str, unique_id: str) -> str | None:
    """The document a uniqueId names in the space (deposited or imported), if any."""
    item = aws.table(TABLE).get_item(Key=layout.legacy_document(patient_id, unique_id)).get("Item")
    return item["document_id"] if item else None


def legacy_marker_item(patient_id: str, unique_id: str, document_id: str, migration_id: str) -> dict:
    return aws.put_new(
        {**layout.legacy_document(patient_id, unique_id), "document_id": document_id, "migration_id": migration_id},
        TABLE,
    )


def space_open_item(patient_id: str) -> dict:
    return layout.space_is_open(aws.table().name, patient_id)  # the spaces table's account


def count_item(migration_id: str, archive_key: str, add: dict[str, int]) -> dict:
    shard = counters.shard_of(archive_key, MIGRATION_SHARDS)
    return counters.add_item(layout.migration_counter(migration_id, shard), add, layout.MIGRATION_TABLE)


def counted_item(migration_id: str, archive_key: str) -> dict:
    """Written with an archive's last change: this migration counts the archive once."""
    expires = int((clock.now() + timedelta(days=COUNTED_FOR_DAYS)).timestamp())
    return aws.put_new({**layout.migration_archive(migration_id, archive_key), "ttl": expires}, layout.MIGRATION_TABLE)


def settle(migration_id: str, archive_key: str, outcome: str, reject: dict | None = None) -> bool:
    """Counts an archive that changes nothing in a space (a duplicate, a reject); False if this
    migration had already counted it."""
    from botocore.exceptions import ClientError

    items = [
        counted_item(migration_id, archive_key),
        count_item(migration_id, archive_key, {"archives": 1, outcome: 1}),
    ]
    if reject:
        reject_item = {**layout.migration_reject(migration_id, archive_key), **reject}
        items.append({"Put": {"TableName": aws.table(layout.MIGRATION_TABLE).name, "Item": reject_item}})
    try:
        aws.table().meta.client.transact_write_items(TransactItems=items)
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


# --- The legacy import's archives and its state machine (documents/legacy.py) -----------------------
# Answers to a task token already used: a batch delivered again after its answer was sent.
SPENT_TOKEN = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


class ArchiveTooLarge(Exception):
    pass


def archive(archive_key: str, max_bytes: int) -> bytes | None:
    """An archive of the import bucket, None when it is not there any more; ArchiveTooLarge over
    ``max_bytes``, read no further."""
    from botocore.exceptions import ClientError

    try:
        answer = aws.client("s3").get_object(Bucket=settings().import_bucket, Key=archive_key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise
    if answer["ContentLength"] > max_bytes:
        answer["Body"].close()
        raise ArchiveTooLarge(archive_key)
    return answer["Body"].read()


def answer_task(token: str, output: dict | None = None, error: tuple[str, str] | None = None) -> bool:
    """Answers the state machine's task: its output, or an (error, cause). False when the token
    was answered already."""
    from botocore.exceptions import ClientError

    sfn = aws.client("stepfunctions")
    try:
        if error is None:
            sfn.send_task_success(taskToken=token, output=json.dumps(output))
        else:
            sfn.send_task_failure(taskToken=token, error=error[0], cause=error[1])
    except ClientError as failure:
        if failure.response["Error"]["Code"] not in SPENT_TOKEN:
            raise
        return False
    return True
