"""The medical record's documents (DOMAIN.md § Who may see what; API.md § Documents).

Every call is decided by the access policy on the document's own attributes (author, type,
masked, invisible), and every read, deposit, mask, release and deletion lands in the activity
history in the same transaction as the metadata change it describes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.policy import Resource, decide
from chalicelib.core.gate import Authorized, authorize, check, load_space
from chalicelib.core import history
from chalicelib.core.history import ActorRef
from chalicelib.core import blobs, clock, layout, logs, purge
from chalicelib.core.api import Raw
from chalicelib.core.auth import Principal
from chalicelib.core.errors import InvalidRequest, NotFound
from chalicelib.core.ids import new_sortable_id
from chalicelib.core.pagination import decode_cursor, encode_cursor
from chalicelib.documents import store
from chalicelib.core import content
from chalicelib.documents.interface import as_resource
from chalicelib.documents.models import Document, DocumentCreate, DocumentPage, DocumentPatch, DocumentQuery

CONTENT = blobs.Bucket("documents")  # this module's encrypted content, in its own bucket

INVISIBILITY = timedelta(days=30)
RELEASE_TIMER = ActorRef(role="system", id="release-timer")
ANY_DOCUMENT = Resource(kind="document", document_type="other")


def _context(patient_id: str, document_id: str) -> dict[str, str]:
    return {"purpose": "document", "patient_id": patient_id, "document_id": document_id}


def _public(item: dict) -> Document:
    invisible = bool(item["invisible_to_patient"])
    if invisible and item.get("invisible_since"):
        invisible = clock.parse_iso(item["invisible_since"]) + INVISIBILITY > clock.now()
    return Document(
        document_id=item["document_id"],
        type=item["type"],
        title=item["title"],
        date=item["date"],
        media_type=item["media_type"],
        size=int(item["size"]),
        sha256=item["sha256"],
        author=ActorRef(role=item["author_role"], id=item["author_id"]),
        created_at=item["created_at"],
        masked=bool(item["masked"]),
        invisible_to_patient=invisible,
        hidden_from_representatives=bool(item.get("hidden_from_representatives", False)),
    )


def _record(granted: Authorized, action: str, document_id: str, with_items: list[dict] | None = None) -> None:
    history.commit(
        granted.space.patient_id, granted.actor_ref, action, document_id, writes=with_items or [], head=granted.items.activity_head
    )


def deposit(principal: Principal, patient_id: str, request: DocumentCreate) -> Document:
    granted = authorize(
        principal,
        patient_id,
        "create",
        Resource(kind="document", document_type=request.type, invisible_to_patient=request.invisible_to_patient),
    )
    data = content.check(request.content_base64, request.media_type)
    item, writes = store_new(
        patient_id,
        data,
        granted.actor_ref,
        document_type=request.type,
        title=request.title,
        date=request.date.isoformat(),
        media_type=request.media_type,
        invisible_to_patient=request.invisible_to_patient,
    )
    try:
        _record(granted, "document.created", item["document_id"], writes)
    except Exception:
        CONTENT.discard(item["object_key"])  # no content without its metadata
        raise
    return _public(item)


def store_new(
    patient_id: str,
    data: bytes,
    author: ActorRef,
    *,
    document_type: str,
    title: str,
    date: str,
    media_type: str,
    invisible_to_patient: bool = False,
    masked: bool = False,
    hidden_from_representatives: bool = False,
    created: datetime | None = None,
) -> tuple[dict, list[dict]]:
    """Encrypts and stores a new document's content, the one path of every document (deposited,
    imported); returns its metadata item and the transaction items creating it. The caller commits
    them with the history event, and calls ``CONTENT.discard(item["object_key"])`` if that fails.
    ``created`` (an imported document's original time) orders it among the others."""
    document_id = new_sortable_id("doc", created)
    object_key = store.object_key(document_id)
    now = clock.iso(clock.now())
    sha256 = CONTENT.store(object_key, data, _context(patient_id, document_id), store.owner(patient_id, document_id))
    item = {
        "patient_id": patient_id,
        "document_id": document_id,
        "type": document_type,
        "title": title,
        "date": date,
        "media_type": media_type,
        "size": len(data),
        "sha256": sha256,
        "author_role": author.role,
        "author_id": author.id,
        "created_at": now,
        "masked": masked,
        "invisible_to_patient": invisible_to_patient,
        "hidden_from_representatives": hidden_from_representatives,
        "object_key": object_key,
    }
    if invisible_to_patient:
        release_at = clock.now() + INVISIBILITY
        item.update(invisible_since=now, **store.release_index_keys(patient_id, document_id, release_at))
    return item, [store.put_item(item), CONTENT.delete_marker_item(object_key)]


def list_documents(principal: Principal, patient_id: str, query: DocumentQuery) -> DocumentPage:
    granted = authorize(principal, patient_id, "read", ANY_DOCUMENT)
    start_key = decode_cursor(query.cursor, pk=layout.patient(patient_id))
    items, last_key = store.page(patient_id, query.limit, start_key, query.type)
    now = clock.now()
    visible = [item for item in items if decide(granted.actor, granted.space, "read", as_resource(item), now).allowed]
    _record(granted, "document.listed", query.type)
    return DocumentPage(items=[_public(item) for item in visible], next_cursor=encode_cursor(last_key))


def metadata(principal: Principal, patient_id: str, document_id: str) -> Document:
    granted, item = _find(principal, patient_id, document_id, "read")
    _record(granted, "document.read", document_id)
    return _public(item)


def _find(principal: Principal, patient_id: str, document_id: str, action: str) -> tuple[Authorized, dict]:
    """The document if the caller may do ``action`` on it; 404 if it does not exist for them."""
    items = load_space(patient_id)
    item = store.get(patient_id, document_id)
    if item is None:
        raise NotFound("No such document.")
    return check(principal, items, action, as_resource(item)), item


def read_content(principal: Principal, patient_id: str, document_id: str) -> Raw:
    granted, item = _find(principal, patient_id, document_id, "read")
    data = CONTENT.load(item["object_key"], _context(patient_id, document_id), item["sha256"])
    _record(granted, "document.read", document_id)
    body = data.decode("utf-8") if item["media_type"].startswith("text/") else data
    return Raw(body=body, content_type=item["media_type"])


def update(principal: Principal, patient_id: str, document_id: str, request: DocumentPatch) -> Document:
    if request.masked is None and request.invisible_to_patient is None:
        raise InvalidRequest("Nothing to change: send masked (patient) or invisible_to_patient: false (author).")
    items = load_space(patient_id)
    item = store.get(patient_id, document_id)
    if item is None:
        raise NotFound("No such document.")
    if request.masked is not None:
        granted = check(principal, items, "mask", as_resource(item))
        change = store.update_item(patient_id, document_id, {"masked": request.masked})
        _record(granted, "document.masked" if request.masked else "document.unmasked", document_id, [change])
        item["masked"] = request.masked
        items = granted.items
    if request.invisible_to_patient is False:
        granted = check(principal, items, "release", as_resource(item))
        _release(granted.space.patient_id, item, granted.actor_ref)
        item["invisible_to_patient"] = False
    return _public(item)


def _release(patient_id: str, item: dict, actor: ActorRef) -> bool:
    """Makes a document visible to the patient; False if it already was (idempotent timer)."""
    change = store.update_item(
        patient_id,
        item["document_id"],
        {"invisible_to_patient": False, "released_at": clock.iso(clock.now())},
        removes=("gsi1pk", "gsi1sk"),
        condition="invisible_to_patient = :true",
        values={":true": True},
    )
    try:
        history.commit(patient_id, actor, "document.released", item["document_id"], writes=[change])
    except history.StateChanged:
        return False
    return True


def delete(principal: Principal, patient_id: str, document_id: str) -> None:
    granted, item = _find(principal, patient_id, document_id, "delete")
    _remove(granted.space.patient_id, item, granted.actor_ref, head=granted.items.activity_head)


def _remove(patient_id: str, item: dict, actor: ActorRef, head: dict | None = None) -> None:
    object_key = item["object_key"]
    owned = [store.delete_item(patient_id, item["document_id"]), CONTENT.put_marker_item(object_key, store.owner(patient_id, item["document_id"]))]
    history.commit(patient_id, actor, "document.deleted", item["document_id"], writes=owned, head=head)
    CONTENT.discard(object_key)  # a failure here leaves the marker: the sweeper finishes


def purge_space(patient_id: str, actor: ActorRef) -> int:
    """Closure with immediate deletion: every document's content (all versions) and metadata,
    and the markers of the legacy documents imported."""
    documents = store.all_of(patient_id)
    for item in documents:
        _remove(patient_id, item, actor)
    purge.delete(purge.space_items(patient_id, [layout.LEGACY_PREFIX]))
    return len(documents)


def release_due(now=None) -> int:
    """Scheduled: documents invisible for 30 days become visible (catching up a week of days)."""
    now = now or clock.now()
    released = 0
    for days_ago in range(7, -1, -1):
        day = (now - timedelta(days=days_ago)).date().isoformat()
        for item in store.due_for_release(day, clock.iso(now)):
            released += _release(item["patient_id"], item, RELEASE_TIMER)
    logs.info("documents released", released=released)
    return released
