"""The medical record's documents (docs/domain.md § Who may see what; docs/api.md § Documents).

Every call is decided by the access policy on the document's own attributes (author, type,
masked, invisible, hidden from the representatives), and every read, deposit, mask, release,
disclosure and deletion lands in the activity history in the same transaction as the metadata
change it describes. The events about a document hidden from the representatives carry the flag
(core.history.journal), so that the representatives' history leaves them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from chalicelib.core import clock, logs
from chalicelib.core.data import concurrency, layout, purge
from chalicelib.core.data.spaces import SpaceItems
from chalicelib.core.errors import Conflict, Forbidden, InvalidRequest, NotFound, PayloadTooLarge
from chalicelib.core.history import journal
from chalicelib.core.http import content
from chalicelib.core.http.api import Raw
from chalicelib.core.http.pagination import decode_cursor, encode_cursor, scope
from chalicelib.core.ids import new_sortable_id
from chalicelib.core.models import ActorRef
from chalicelib.core.policy import document_types
from chalicelib.core.policy.decision import CREATE, INVISIBILITY_PERIOD, READ, UPDATE, Resource, still_invisible
from chalicelib.core.policy.gate import Authorized, check, load_space
from chalicelib.core.security import blobs
from chalicelib.core.security.auth import Principal
from chalicelib.documents import store
from chalicelib.documents.interface import CURRENT, SUPERSEDED, DuplicateDocument, Reader, as_resource
from chalicelib.documents.models import Document, DocumentCreate, DocumentPage, DocumentPatch, DocumentQuery

CONTENT = blobs.Bucket("documents")  # this module's encrypted content, in its own bucket

RELEASE_TIMER = ActorRef(role="system", id="release-timer")
ANY_DOCUMENT = Resource(kind="document", document_type="other")


def _context(patient_id: str, document_id: str) -> dict[str, str]:
    return {"purpose": "document", "patient_id": patient_id, "document_id": document_id}


def _public(item: dict) -> Document:
    invisible = bool(item["invisible_to_patient"])
    if invisible and item.get("invisible_since"):
        invisible = clock.parse_iso(item["invisible_since"]) + INVISIBILITY_PERIOD > clock.now()
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
        hidden_from_representatives=_hidden(item),
        type_code=document_types.code_of_item(item),
        status=item.get("status", CURRENT),
        replaced_by=item.get("replaced_by"),
        replaces=item.get("replaces"),
        master_identifier=item.get("master_identifier"),
    )


def _hidden(item: dict) -> bool:
    return bool(item.get("hidden_from_representatives"))


class Concealed(TypedDict):
    """What an event records of the documents it is about (core.history.journal commit's flags)."""

    hidden_from_representatives: bool
    invisible_to_patient: bool


def _concealed(*items: dict) -> Concealed:
    """What an event about these documents records of them (core.history.journal): hidden from the
    representatives, still invisible to the patient, for the history to show it only to whom may
    see them all."""
    now = clock.now()
    return Concealed(
        hidden_from_representatives=any(_hidden(item) for item in items),
        invisible_to_patient=any(still_invisible(as_resource(item), now) for item in items),
    )


def _record(
    granted: Authorized,
    action: str,
    resource: str | None,
    with_items: list[dict] | None = None,
    about: dict | None = None,
) -> None:
    """Appends the event of a call (with its writes); ``about``: the document it concerns."""
    journal.commit(
        granted.space.patient_id,
        granted.actor_ref,
        action,
        resource,
        writes=with_items or [],
        **_concealed(*([about] if about else [])),
    )


@dataclass
class Checked:
    """A document that passed every check of a deposit, not written yet."""

    granted: Authorized
    request: DocumentCreate
    content: bytes
    document_id: str
    replaced: dict | None  # the older document it supersedes
    master_identifier: str | None = None  # its uniqueId (ITI-65's masterIdentifier), unique in the space


# One transaction holds a deposit (one document, or a bundle of them): head + per document its
# metadata, pointer, marker removal, event, and when it replaces one, the older one and its event.
MAX_AT_ONCE = (100 - 1) // 6


def deposit(principal: Principal, patient_id: str, request: DocumentCreate) -> Document:
    return deposit_all([check_deposit(principal, load_space(patient_id), request)])[0]


def check_deposit(
    principal: Principal, items: SpaceItems, request: DocumentCreate, master_identifier: str | None = None
) -> Checked:
    """Every check of one deposit, nothing written: the access decision, the bytes (size, base64,
    media type), the document it replaces (same author, still current) and its master identifier
    (none in the space yet; the write's transaction holds it, whoever races)."""
    resource = Resource(
        kind="document",
        document_type=request.type,
        invisible_to_patient=request.invisible_to_patient,
        hidden_from_representatives=request.hidden_from_representatives,
    )
    granted = check(principal, items, CREATE, resource)
    data = content.check(request.content_base64, request.media_type)
    replaced = None
    if request.replaces:
        replaced = store.get(items.patient_id, request.replaces)
        if replaced is None:
            raise NotFound("No such document to replace.")
        check(principal, items, UPDATE, as_resource(replaced))
        if (replaced["author_role"], replaced["author_id"]) != (granted.actor.role, granted.actor.id):
            raise Forbidden("Only the author of a document may replace it.")
        if replaced.get("status", CURRENT) != CURRENT:
            raise Conflict(
                f"The document {request.replaces} was already replaced by {replaced.get('replaced_by')}: replace that "
                "one."
            )
    if master_identifier is not None and store.document_of_master(items.patient_id, master_identifier):
        raise _duplicate()
    return Checked(granted, request, data, new_sortable_id("doc"), replaced, master_identifier)


def _duplicate() -> DuplicateDocument:
    return DuplicateDocument("A document with this masterIdentifier is already in the space: nothing was stored.")


def deposit_all(documents: list[Checked]) -> list[Document]:
    """Writes documents checked by ``check_deposit`` on one space, all or nothing (``write``)."""
    if len(documents) > MAX_AT_ONCE:
        raise PayloadTooLarge(f"At most {MAX_AT_ONCE} documents at once: split them.")
    replaced = [document.replaced["document_id"] for document in documents if document.replaced]
    if len(set(replaced)) < len(replaced):
        raise Conflict("Two documents replace the same one: a document is replaced once.")
    masters = [document.master_identifier for document in documents if document.master_identifier]
    if len(set(masters)) < len(masters):
        raise _duplicate()
    granted = documents[0].granted
    drafts = [_draft(document) for document in documents]
    try:
        items = write(granted.space.patient_id, granted.actor_ref, drafts)
    except journal.StateChanged:
        patient_id = granted.space.patient_id
        if any(store.document_of_master(patient_id, master) for master in masters):
            raise _duplicate() from None  # another deposit of the same identifier won the race
        raise
    return [_public(item) for item in items]


@dataclass
class Draft:
    """A checked document ready to write: its metadata item (all but where its content goes), its
    bytes, the older document it supersedes and any item of the caller's written with it."""

    item: dict
    content: bytes
    replaced: dict | None = None
    with_items: list[dict] = field(default_factory=list)


def new_item(
    patient_id: str,
    document_id: str,
    author: ActorRef,
    *,
    type: str,
    type_code: str | None,
    title: str,
    date: str,
    media_type: str,
    invisible_to_patient: bool,
    hidden_from_representatives: bool,
    masked: bool = False,
    replaces: str | None = None,
    master_identifier: str | None = None,
) -> dict:
    """The metadata of a new document (deposited or imported), before its content is stored."""
    now = clock.now()
    item = {
        "patient_id": patient_id,
        "document_id": document_id,
        "type": type,
        "type_code": type_code or document_types.code_of(type),
        "title": title,
        "date": date,
        "media_type": media_type,
        "author_role": author.role,
        "author_id": author.id,
        "created_at": clock.iso(now),
        "masked": masked,
        "invisible_to_patient": invisible_to_patient,
        "hidden_from_representatives": hidden_from_representatives,
        "status": CURRENT,
    }
    item.update(store.search_index_keys(patient_id, str(item["type_code"]), clock.iso(now), document_id))
    if replaces:
        item["replaces"] = replaces
    if master_identifier:
        item["master_identifier"] = master_identifier
    if invisible_to_patient:
        item.update(
            invisible_since=item["created_at"],
            **store.release_index_keys(patient_id, document_id, now + INVISIBILITY_PERIOD),
        )
    return item


def _draft(document: Checked) -> Draft:
    request = document.request
    item = new_item(
        document.granted.space.patient_id,
        document.document_id,
        document.granted.actor_ref,
        type=request.type,
        type_code=request.type_code,
        title=request.title,
        date=request.date.isoformat(),
        media_type=request.media_type,
        invisible_to_patient=request.invisible_to_patient,
        hidden_from_representatives=request.hidden_from_representatives,
        replaces=request.replaces,
        master_identifier=document.master_identifier,
    )
    marker = document.master_identifier
    with_items = [store.master_marker_item(item["patient_id"], marker, document.document_id)] if marker else []
    return Draft(item, document.content, document.replaced, with_items)


def write(
    patient_id: str,
    actor: ActorRef,
    drafts: list[Draft],
    *,
    action: str = "document.created",
    writes: list[dict] | None = None,
    head: dict | None = None,
) -> list[dict]:
    """The one write path of new documents (deposited, imported): their contents first (encrypted,
    behind orphan markers), then every metadata item, pointer, ``writes`` and history event
    (``action`` per document) in one transaction; if that is refused, the contents written are
    discarded (core.security.blobs ``abandon``). Returns the metadata items written."""
    object_keys = [store.object_key(draft.item["document_id"]) for draft in drafts]
    try:
        hashes = concurrency.map_concurrently(
            lambda pair: _store_content(patient_id, *pair), zip(drafts, object_keys, strict=True)
        )
        items = [
            {**draft.item, "size": len(draft.content), "sha256": sha256, "object_key": object_key}
            for draft, object_key, sha256 in zip(drafts, object_keys, hashes, strict=True)
        ]
        all_writes, events = list(writes or []), []
        for draft, item in zip(drafts, items, strict=True):
            document_id = item["document_id"]
            all_writes += [
                store.put_item(item),
                store.put_pointer_item(patient_id, document_id),
                CONTENT.delete_marker_item(item["object_key"]),
            ]
            all_writes += draft.with_items
            events.append(journal.Event(action, document_id, **_concealed(item)))
            if draft.replaced:
                all_writes.append(_supersede(patient_id, draft.replaced["document_id"], document_id))
                # names the older document but tells of the newer: concealed from whom either is
                events.append(
                    journal.Event(
                        "document.superseded", draft.replaced["document_id"], **_concealed(draft.replaced, item)
                    )
                )
        journal.commit_events(patient_id, actor, events, writes=all_writes, head=head)
    except Exception as error:
        CONTENT.abandon(object_keys, error)  # at once only if nothing was written: else the sweeper decides
        raise
    return items


def _store_content(patient_id: str, draft: Draft, object_key: str) -> str:
    document_id = draft.item["document_id"]
    return CONTENT.store(
        object_key, draft.content, _context(patient_id, document_id), store.owner(patient_id, document_id)
    )


def _supersede(patient_id: str, document_id: str, replaced_by: str) -> dict:
    """The older document becomes superseded, if it still is current (a racing replacement loses)."""
    return store.update_item(
        patient_id,
        document_id,
        {"status": SUPERSEDED, "replaced_by": replaced_by},
        condition="attribute_exists(pk) AND (attribute_not_exists(#status) OR #status = :current)",
        names={"#status": "status"},
        values={":current": CURRENT},
    )


def _listing(principal: Principal, items: SpaceItems) -> Authorized:
    return check(principal, items, READ, ANY_DOCUMENT)


def list_documents(principal: Principal, patient_id: str, query: DocumentQuery) -> DocumentPage:
    granted = _listing(principal, load_space(patient_id))
    list_scope = scope("documents", principal, patient_id=patient_id, type=query.type, status=query.status)
    reader = Reader(granted.actor, granted.space, clock.now())

    def visible(item: dict) -> bool:
        # the status as the caller sees it: superseded by a document they may not read is current
        return reader.may_read(item) and reader.seen(item)["status"] == query.status

    # Full pages, whatever the caller may not see (a masked or hidden document must not show as
    # a short page), and a cursor naming the last document returned.
    items, next_key = store.visible_page(
        patient_id, query.limit, decode_cursor(query.cursor, list_scope), query.type, visible
    )
    _record(granted, "document.listed", query.type)
    return DocumentPage(
        items=[_public(reader.seen(item)) for item in items], next_cursor=encode_cursor(next_key, list_scope)
    )


@dataclass(frozen=True)
class Search:
    """What a FHIR search (ITI-67) asks: each filter None when absent."""

    type_codes: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    created_from: datetime | None = None  # deposited at or after
    created_until: datetime | None = None  # deposited before
    count: int = 50
    cursor: str | None = None
    total: bool = False  # counted on every page (FHIR's _total=accurate), not only when it fits one
    master_identifier: str | None = None  # the document of this uniqueId (one marker read), if any


@dataclass
class Found:
    documents: list[Document]
    total: int | None  # of the documents the caller may see, all pages; None: not counted
    next_cursor: str | None


def search(principal: Principal, items: SpaceItems, search: Search) -> Found:
    """A page of the documents matching ``search`` that the caller may see, read from the search
    indexes a page at a time (store.search_page): the cost of a page does not grow with the space.
    The visible ones are chosen as they are read, so neither ``total``, a page's size nor its cursor
    tells of one they may not see. ``total`` when the page holds them all, or when asked."""
    granted = _listing(principal, items)
    patient_id = items.patient_id
    list_scope = scope(
        "fhir.documents",
        principal,
        patient_id=patient_id,
        type_codes=sorted(search.type_codes) if search.type_codes is not None else None,
        statuses=sorted(search.statuses) if search.statuses is not None else None,
        created_from=search.created_from,
        created_until=search.created_until,
        master_identifier=search.master_identifier,
    )
    place = decode_cursor(search.cursor, list_scope)
    window = store.Window(
        since=clock.iso(search.created_from) if search.created_from else None,
        until=clock.iso(search.created_until) if search.created_until else None,
    )
    reader = Reader(granted.actor, granted.space, clock.now())

    def visible(item: dict) -> bool:
        # the status as the caller sees it: superseded by a document they may not read is current
        return reader.may_read(item) and (
            search.statuses is None or reader.seen(item).get("status", CURRENT) in search.statuses
        )

    if search.master_identifier is not None:
        found = _by_master_identifier(patient_id, search, window, visible)
    else:
        found = store.search_page(
            patient_id,
            search.type_codes,
            store.Window(window.since, window.until, place["before"] if place else None),
            search.count,
            visible,
        )
    total: int | None = None
    if found.complete and place is None:
        total = len(found.items)
    elif search.total:
        total = store.count_matching(patient_id, search.type_codes, window, visible)
    codes = search.type_codes
    _record(
        granted,
        "document.listed",
        document_types.TYPE_OF_CODE[next(iter(codes))] if codes and len(codes) == 1 else None,
    )
    next_cursor = encode_cursor({"before": found.next_before}, list_scope) if found.next_before else None
    return Found([_public(reader.seen(item)) for item in found.items], total, next_cursor)


def _by_master_identifier(
    patient_id: str, search: Search, window: store.Window, visible: Callable[[dict], bool]
) -> store.SearchPage:
    """The one document a uniqueId names, if it matches the other filters and the caller sees it."""
    document_id = store.document_of_master(patient_id, search.master_identifier or "")
    item = store.get(patient_id, document_id) if document_id else None
    matches = item is not None and (
        (search.type_codes is None or document_types.code_of_item(item) in search.type_codes)
        and (window.since is None or store.position(item) >= window.since)
        and (window.until is None or store.position(item) < window.until)
        and visible(item)
    )
    return store.SearchPage([item] if item is not None and matches else [], None, complete=True)


def space_of(document_id: str) -> str:
    """The space a document is in, for the paths naming it by id alone; 404 if there is none."""
    patient_id = store.patient_of(document_id)
    if patient_id is None:
        raise NotFound("No such resource.")
    return patient_id


def metadata(principal: Principal, patient_id: str, document_id: str) -> Document:
    granted, item = _find(principal, patient_id, document_id, "read")
    _record(granted, "document.read", document_id, about=item)
    return _seen(granted, item)


def _seen(granted: Authorized, item: dict) -> Document:
    """A document as the caller sees it: no link to one they may not read (interface.Reader)."""
    return _public(Reader(granted.actor, granted.space, clock.now()).seen(item))


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
    _record(granted, "document.read", document_id, about=item)
    body = data.decode("utf-8") if item["media_type"].startswith("text/") else data
    return Raw(body=body, content_type=item["media_type"])


def update(principal: Principal, patient_id: str, document_id: str, request: DocumentPatch) -> Document:
    """Masks or unmasks (patient), releases to the patient or lifts the minor's secret (author).
    Every requested change is authorized before anything is written, then all of them are written
    at once: one conditional update of the document and its events, in one transaction. A refused
    change leaves the document and the history as they were."""
    if request.masked is None and request.invisible_to_patient is None and request.hidden_from_representatives is None:
        raise InvalidRequest(
            "Nothing to change: send masked (patient), invisible_to_patient: false or hidden_from_representatives: "
            "false (author)."
        )
    items = load_space(patient_id)
    item = store.get(patient_id, document_id)
    if item is None:
        raise NotFound("No such document.")
    resource, hidden = as_resource(item), _hidden(item)
    sets, conditions, actions = {}, [], []
    removes: tuple[str, ...] = ()
    if request.masked is not None:
        granted = check(principal, items, "mask", resource)
        sets["masked"] = request.masked
        actions.append("document.masked" if request.masked else "document.unmasked")
    if request.invisible_to_patient is False:
        granted = check(principal, items, "release", resource)
        if item["invisible_to_patient"]:  # releasing a visible document changes nothing
            released, removes, condition = _release_change()
            sets.update(released)
            conditions.append(condition)
            actions.append("document.released")
    if request.hidden_from_representatives is not None:
        granted = check(principal, items, "disclose", resource)
        sets.update(_disclosure(request.hidden_from_representatives, hidden))
        conditions.append("hidden_from_representatives = :true")
        actions.append("document.disclosed")
    if actions:
        change = store.update_item(
            patient_id,
            document_id,
            sets,
            removes,
            condition=" AND ".join(["attribute_exists(pk)", *conditions]),
            values={":true": True} if conditions else None,
        )
        item.update(sets)
        # each event records the document as the change leaves it (released, disclosed)
        events = [journal.Event(action, document_id, **_concealed(item)) for action in actions]
        journal.commit_events(patient_id, granted.actor_ref, events, writes=[change])
    return _seen(granted, item)


def _disclosure(hide: bool, hidden: bool) -> dict:
    """The author lifts the minor's secret, once and for good: from then on the representatives
    see the document (the events written while it was hidden stay out of their history)."""
    if hide:
        raise Conflict("A document is hidden from the representatives at its deposit only: this cannot be set again.")
    if not hidden:
        raise Conflict("This document is not hidden from the representatives.")
    return {"hidden_from_representatives": False, "disclosed_at": clock.iso(clock.now())}


def _release_change() -> tuple[dict, tuple[str, ...], str]:
    """What releasing a document to its patient sets, removes (its entry in the release timer's
    index) and requires (it is still invisible)."""
    return (
        {"invisible_to_patient": False, "released_at": clock.iso(clock.now())},
        ("gsi1pk", "gsi1sk"),
        "invisible_to_patient = :true",
    )


def _release(patient_id: str, item: dict, actor: ActorRef) -> bool:
    """Makes a document visible to the patient; False if it already was (idempotent timer)."""
    released, removes, condition = _release_change()
    change = store.update_item(
        patient_id, item["document_id"], released, removes=removes, condition=condition, values={":true": True}
    )
    try:
        journal.commit(
            patient_id,
            actor,
            "document.released",
            item["document_id"],
            writes=[change],
            hidden_from_representatives=_hidden(item),
        )
    except journal.StateChanged:
        return False
    return True


def delete(principal: Principal, patient_id: str, document_id: str) -> None:
    granted, item = _find(principal, patient_id, document_id, "delete")
    _remove(granted.space.patient_id, item, granted.actor_ref)


def _remove(patient_id: str, item: dict, actor: ActorRef) -> None:
    object_key = item["object_key"]
    owned = [
        store.delete_item(patient_id, item["document_id"]),
        store.delete_pointer_item(item["document_id"]),
        CONTENT.put_marker_item(object_key, store.owner(patient_id, item["document_id"])),
    ]
    journal.commit(patient_id, actor, "document.deleted", item["document_id"], writes=owned, **_concealed(item))
    CONTENT.discard(object_key)  # a failure here leaves the marker: the sweeper finishes


def purge_space(patient_id: str, actor: ActorRef) -> int:
    """Closure with immediate deletion: every document's content (all versions) and metadata,
    and the markers of the legacy documents imported."""
    documents = store.all_of(patient_id)
    for item in documents:
        _remove(patient_id, item, actor)
    purge.delete(purge.space_items(patient_id, [layout.LEGACY_PREFIX], store.TABLE), store.TABLE)
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
