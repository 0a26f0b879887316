"""What other modules may ask of the documents module, and nothing more: the export reads the
metadata of the documents its caller may read, the activity history which events its caller may
see, the emergency summary (profile) the latest advance directives its caller may read, the FHIR
module deposits, searches and reads through the native API's own calls. Everything
else of documents is documents' own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.core.policy import document_types
from chalicelib.core.policy.decision import ACTIVITY, READ, Actor, Resource, Space, decide
from chalicelib.documents import store

if TYPE_CHECKING:
    from chalicelib.core.data.spaces import SpaceItems
    from chalicelib.core.security.auth import Principal

CURRENT, SUPERSEDED = "current", "superseded"
ID_PREFIX = "doc-"  # core.ids.new_sortable_id("doc"): how a history event names a document
SUPERSEDED_EVENT = "document.superseded"  # names the older document; its replacement is what it tells


def as_resource(item: dict) -> Resource:
    """What the access policy needs to know of a document."""
    invisible_since = item.get("invisible_since")
    return Resource(
        kind="document",
        document_type=item["type"],
        author=(item["author_role"], item["author_id"]),
        masked=bool(item["masked"]),
        invisible_to_patient=bool(item["invisible_to_patient"]),
        invisible_since=clock.parse_iso(invisible_since) if invisible_since else None,
        hidden_from_representatives=bool(item.get("hidden_from_representatives")),
    )


_OID = re.compile(r"[0-2](?:\.(?:0|[1-9][0-9]*))+")


URI_SYSTEM = "urn:ietf:rfc:3986"
UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class DuplicateDocument(Conflict):
    """A document whose master identifier is already in the space (FHIR issue ``duplicate``)."""

    issue = "duplicate"


def unique_id_of(value: str) -> str | None:
    """A masterIdentifier's value (``urn:oid:<oid>`` or ``urn:uuid:<uuid>``) as the XDS uniqueId the
    space keeps (the legacy import's spelling: the OID alone, a UUID as its URN); None if neither."""
    if value.startswith("urn:oid:") and _OID.fullmatch(value.removeprefix("urn:oid:").split("^", 1)[0]):
        return value.removeprefix("urn:oid:")
    return value if UUID_URN.fullmatch(value) else None


def master_identifier(unique_id: str) -> dict:
    """A document's master identifier (an imported document's XDS uniqueId) as FHIR's
    ``DocumentReference.masterIdentifier`` (IHE MHD): ``urn:oid:<uniqueId>`` in the URI system.
    An ``<OID>^<extension>`` (ITI TF-3 4.2.3.2.26) is kept whole, as XDS writes it: the extension
    is what makes the document unique under its root, and one spelling everywhere lets a client
    match what the DMP gave it (a strict RFC 3061 urn:oid holds digits and dots only: this one
    is a URN of the uniqueId, not of an OID). A uniqueId that does not begin with an OID is not
    claimed as a URI: its value alone."""
    if _OID.fullmatch(unique_id.split("^", 1)[0]):
        return {"system": URI_SYSTEM, "value": f"urn:oid:{unique_id}"}
    if UUID_URN.fullmatch(unique_id):  # deposited by ITI-65 with a urn:uuid masterIdentifier
        return {"system": URI_SYSTEM, "value": unique_id}
    return {"value": unique_id}


class Reader:
    """A space's documents as one caller sees them, by the one access decision: a document they may
    not read does not exist for them, nor does any trace of it: the links to it (an older document
    it replaced is current for them), nor the history events about it.

    ``known``: document items already read (the others are read when a link names them);
    ``complete``: they are all the space's documents (an id not among them was deleted)."""

    def __init__(self, actor: Actor, space: Space, now: datetime, known: Iterable[dict] = (), complete: bool = False):
        self.actor, self.space, self.now = actor, space, now
        self._items: dict[str, dict | None] = {item["document_id"]: item for item in known}
        self._complete = complete

    def may_read(self, item: dict) -> bool:
        return decide(self.actor, self.space, READ, as_resource(item), self.now).allowed

    def _item(self, document_id: str) -> dict | None:
        if document_id not in self._items and not self._complete:
            self._items[document_id] = store.get(self.space.patient_id, document_id)
        return self._items.get(document_id)

    def _may_read_id(self, document_id: str) -> bool:
        item = self._item(document_id)
        return item is not None and self.may_read(item)

    def seen(self, item: dict) -> dict:
        """A document item as this caller sees it: its links to a document they may not read (or
        one since deleted) are left out, and a document superseded by such a one is current."""
        seen = {"status": CURRENT, **item}  # documents from before replacement had none
        if item.get("replaced_by") and not self._may_read_id(item["replaced_by"]):
            seen.pop("replaced_by")
            seen["status"] = CURRENT
        if item.get("replaces") and not self._may_read_id(item["replaces"]):
            seen.pop("replaces")
        return seen

    def sees_event(self, event: dict) -> bool:
        """Whether this caller sees a history event (one of core.history.journal's). The events written
        while a document was hidden from the representatives never reach them; an event about an
        existing document shows once they may read it (released: by its author or after 30 days),
        ``document.superseded`` once they may read the replacement too; an event about a document
        since deleted is judged on what it recorded (hidden, still invisible)."""
        resource = event.get("resource")
        item = self._item(resource) if resource and resource.startswith(ID_PREFIX) else None
        recorded = Resource(
            kind=ACTIVITY,
            hidden_from_representatives=bool(event.get("hidden_from_representatives")),
            invisible_to_patient=item is None and bool(event.get("invisible_to_patient")),
        )
        if not decide(self.actor, self.space, READ, recorded, self.now).allowed:
            return False
        if item is None:
            return True
        if not self.may_read(item):
            return False
        return event["action"] != SUPERSEDED_EVENT or self.seen(item).get("status") == SUPERSEDED


def of_space(actor: Actor, space: Space, now: datetime) -> Reader:
    """A reader knowing every document of the space (one query): for the activity history."""
    return Reader(actor, space, now, store.all_of(space.patient_id), complete=True)


def latest_readable(actor: Actor, space: Space, now: datetime, document_type: str) -> dict | None:
    """The document of a type with the latest date ``actor`` may read, or None: never one they may
    not see (the type's search index, not the space's list)."""
    reader = Reader(actor, space, now)
    return store.latest_of_type(space.patient_id, document_types.code_of(document_type), reader.may_read)


def readable_metadata(actor: Actor, space: Space, now: datetime) -> list[dict]:
    """The metadata items (no content) of the space's documents ``actor`` may read, by id."""
    reader = Reader(actor, space, now)
    return [
        item
        for item in sorted(store.all_of(space.patient_id), key=lambda item: item["document_id"])
        if reader.may_read(item)
    ]


# --- the FHIR module's calls (docs/fhir.md): the native API's own functions, so the access
# decision, encryption, limits and history are the same ---------------------------------------
def deposit_request(fields: dict) -> Any:
    """A deposit's fields as the native API's request (models.DocumentCreate); pydantic's
    ValidationError when they do not hold."""
    from chalicelib.documents.models import DocumentCreate

    return DocumentCreate.model_validate(fields)


def check_deposit(principal: Principal, items: SpaceItems, request: Any, master_identifier: str | None = None) -> Any:
    """``master_identifier``: the document's uniqueId, unique in the space (DuplicateDocument)."""
    from chalicelib.documents import service

    return service.check_deposit(principal, items, request, master_identifier)


def deposit_all(checked: list) -> list:
    from chalicelib.documents import service

    return service.deposit_all(checked)


def space_of(document_id: str) -> str:
    from chalicelib.documents import service

    return service.space_of(document_id)


def metadata(principal: Principal, patient_id: str, document_id: str) -> Any:
    from chalicelib.documents import service

    return service.metadata(principal, patient_id, document_id)


def read_content(principal: Principal, patient_id: str, document_id: str) -> Any:
    from chalicelib.documents import service

    return service.read_content(principal, patient_id, document_id)


def search(principal: Principal, items: SpaceItems, search: Any) -> Any:
    from chalicelib.documents import service

    return service.search(principal, items, search)


def new_search(**filters: Any) -> Any:
    from chalicelib.documents import service

    return service.Search(**filters)
