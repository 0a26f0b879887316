"""Importing legacy DMP archives (IHE XDM) into the spaces (docs/api.md § Legacy DMP import).

The legacy import state machine (infra/statemachines/legacy_import.asl.json) lists the import
bucket under a migration's prefix and hands batches of archive keys to the import queue, each
with a task token; ``import_batch`` (the documents module's queue handler) imports them side by
side and answers the token.

One archive, by the deposit's own path:
1. read and check it whole (xdm.read), then what a deposit checks: a type of the DMP's list
   (core.policy.document_types), an accepted media type whose bytes match it (core.http.content), 4 MiB;
2. find the space by the patient's INS (keyed hash) and read, in one BatchGetItem, whether this
   migration already counted the archive, whether the space is open, the history's head, and
   which of its documents were imported before (LEGACY# markers, by uniqueId);
3. write the new documents by the deposit's own path (service.write: encrypted, opaque object key,
   orphan marker, DOCID# pointer), keeping its uniqueId (as its master identifier), author
   (professional, RPPS), date, title, type and confidentiality, and commit the metadata, the
   markers, one ``document.imported`` event per document (actor ``{"role": "migration", "id":
   <migration_id>}``) and the migration's counts in one transaction (TRANSACTION_DOCUMENTS
   documents at most: larger archives take several, each whole; a failure discards the content
   not committed, and the retry finishes the rest);
4. an archive whose documents are all there already counts as a duplicate; a refused archive is
   listed with its reason, nothing of it stored.
Each archive is counted once per migration (a marker in the counting transaction): a retried
batch, or a message delivered twice, changes nothing.
"""

from __future__ import annotations

from collections import Counter

from chalicelib.core import logs
from chalicelib.core.data import concurrency, spaces
from chalicelib.core.errors import Conflict
from chalicelib.core.history import journal
from chalicelib.core.http import content, fields
from chalicelib.core.ids import new_sortable_id
from chalicelib.core.models import ActorRef
from chalicelib.core.policy import document_types
from chalicelib.core.security import pseudonyms
from chalicelib.documents import service, store, xdm
from chalicelib.documents.xdm import Entry, Rejected

# Five transaction items per document (metadata, pointer, orphan marker, LEGACY marker, event) and
# four per transaction (head, space open, counts, "archive counted"): within DynamoDB's 100.
TRANSACTION_DOCUMENTS = (100 - 4) // 5
MEDIA_TYPES = (*fields.MEDIA_TYPES, "text/xml")  # a deposit's, and CDA R2 (XML)
ATTEMPTS = 3


def import_batch(message: dict) -> None:
    """One batch of the state machine: its archives side by side, then the answer to its token
    (a failure is answered too: the state machine retries the batch, nothing is counted twice)."""
    migration_id, archives, token = message["migration_id"], message["archives"], message["task_token"]
    try:
        outcomes = concurrency.map_concurrently(lambda key: import_archive(migration_id, key), archives)
        answered = store.answer_task(token, output=dict(Counter(outcome for outcome in outcomes if outcome)))
    except Exception as error:  # noqa: BLE001 - any failure: the state machine retries the batch
        logs.error("legacy import batch failed", exc_info=True, migration_id=migration_id, archives=len(archives))
        answered = store.answer_task(token, error=("LegacyImportFailed", type(error).__name__))
    if not answered:
        logs.warning("legacy import batch answered already", migration_id=migration_id)


def import_archive(migration_id: str, archive_key: str) -> str | None:
    """Imports one archive: "imported", "duplicate" or "rejected"; None when this migration had
    already counted it."""
    try:
        entries = _checked(xdm.read(_fetch(archive_key)))
        patient_id = _patient(entries)
    except Rejected as rejected:
        return _reject(migration_id, archive_key, rejected)
    if patient_id is None:  # an empty record: nothing to bring
        return "imported" if store.settle(migration_id, archive_key, "imported") else None
    for _ in range(ATTEMPTS):
        state = store.import_state(migration_id, archive_key, patient_id, [entry.unique_id for entry in entries])
        if state.counted:
            return None
        if not state.space_open:
            return _reject(migration_id, archive_key, _not_open())
        new = [entry for entry in entries if entry.unique_id not in state.imported]
        if not new:
            return "duplicate" if store.settle(migration_id, archive_key, "duplicates") else None
        try:
            _write(migration_id, archive_key, patient_id, new, state.head)
            return "imported"
        except journal.StateChanged:
            continue  # another run, a closure or an earlier migration came first: look again
    raise Conflict("The archive's space kept changing during its import.")


def _fetch(archive_key: str) -> bytes:
    try:
        archive = store.archive(archive_key, xdm.MAX_ARCHIVE_BYTES)
    except store.ArchiveTooLarge:
        raise Rejected(
            "archive_too_large", f"The archive is over {xdm.MAX_ARCHIVE_BYTES // xdm.MIB} MiB: split the record."
        ) from None
    if archive is None:
        raise Rejected("unreadable_archive", "The archive is no longer in the import bucket.")
    return archive


def _checked(entries: list[Entry]) -> list[Entry]:
    """What a deposit checks, for every entry before anything is written."""
    for entry in entries:
        where = f"Document entry {entry.position}"
        if document_types.type_of(entry.type_code) is None:
            raise Rejected(
                "unknown_type_code",
                f"{where}: its typeCode {entry.type_code[:20]!r} is not a code of the DMP's list we take.",
            )
        if entry.media_type not in MEDIA_TYPES:
            raise Rejected("unsupported_media_type", f"{where}: its mimeType is not one of {', '.join(MEDIA_TYPES)}.")
        if not content.matches(entry.content, entry.media_type):
            raise Rejected("unsupported_media_type", f"{where}: its bytes are not a {entry.media_type} file.")
    return entries


def _not_open() -> Rejected:
    return Rejected(
        "space_not_open", "The patient of this archive has no open space (never created, opposed or closed)."
    )


def _patient(entries: list[Entry]) -> str | None:
    if not entries:
        return None
    patient_id = spaces.patient_id_for(pseudonyms.ins_digest(entries[0].ins))
    if patient_id is None:
        raise _not_open()
    return patient_id


def _reject(migration_id: str, archive_key: str, rejected: Rejected) -> str | None:
    reject = {"archive": archive_key, "code": rejected.code, "message": rejected.message}
    if not store.settle(migration_id, archive_key, "rejected", reject):
        return None
    logs.info("legacy archive rejected", migration_id=migration_id, code=rejected.code)
    return "rejected"


def _write(migration_id: str, archive_key: str, patient_id: str, entries: list[Entry], head: dict | None) -> None:
    actor = ActorRef(role="migration", id=migration_id)
    chunks = [entries[start : start + TRANSACTION_DOCUMENTS] for start in range(0, len(entries), TRANSACTION_DOCUMENTS)]
    for number, chunk in enumerate(chunks, start=1):
        last = number == len(chunks)
        drafts = [_draft(migration_id, patient_id, entry) for entry in chunk]
        counts = {"documents": len(chunk), **({"archives": 1, "imported": 1} if last else {})}
        writes = [store.space_open_item(patient_id), store.count_item(migration_id, archive_key, counts)]
        if last:
            writes.append(store.counted_item(migration_id, archive_key))
        service.write(patient_id, actor, drafts, action="document.imported", writes=writes, head=head)
        head = None  # the next transaction reads the head the last one left


def _draft(migration_id: str, patient_id: str, entry: Entry) -> service.Draft:
    """A document of the archive as a deposit writes it, keeping its uniqueId (its master
    identifier), author (professional, RPPS), date, title, type and confidentiality; its id
    orders it at its original time."""
    document_id = new_sortable_id("doc", entry.created)
    item = service.new_item(
        patient_id,
        document_id,
        ActorRef(role="professional", id=entry.author_rpps),
        type=document_types.TYPE_OF_CODE[entry.type_code],  # a known code: _checked refused the others
        type_code=entry.type_code,
        title=entry.title,
        date=entry.created.date().isoformat(),
        media_type=entry.media_type,
        invisible_to_patient=entry.invisible_to_patient,
        hidden_from_representatives=entry.hidden_from_representatives,
        masked=entry.masked,
        master_identifier=entry.unique_id,
    )
    return service.Draft(
        item,
        entry.content,
        with_items=[store.legacy_marker_item(patient_id, entry.unique_id, document_id, migration_id)],
    )
