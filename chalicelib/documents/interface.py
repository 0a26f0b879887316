"""What other modules may ask of the documents module, and nothing more: the export reads the
metadata of the documents its caller may read. Everything else of documents is documents' own."""

from __future__ import annotations

import re
from datetime import datetime

from chalicelib.core import clock
from chalicelib.core.policy import READ, Actor, Resource, Space, decide
from chalicelib.documents import store


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


def master_identifier(unique_id: str) -> dict:
    """A document's master identifier (an imported document's XDS uniqueId) as FHIR's
    ``DocumentReference.masterIdentifier`` (IHE MHD): ``urn:oid:<uniqueId>`` in the URI system.
    An ``<OID>^<extension>`` (ITI TF-3 4.2.3.2.26) is kept whole, as XDS writes it: the extension
    is what makes the document unique under its root, and one spelling everywhere lets a client
    match what the DMP gave it (a strict RFC 3061 urn:oid holds digits and dots only: this one
    is a URN of the uniqueId, not of an OID). A uniqueId that does not begin with an OID is not
    claimed as a URI: its value alone."""
    if _OID.fullmatch(unique_id.split("^", 1)[0]):
        return {"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{unique_id}"}
    return {"value": unique_id}


def readable(actor: Actor, space: Space, items: list[dict], now: datetime) -> list[dict]:
    """The document items of ``items`` that ``actor`` may read (the policy, document by document)."""
    return [item for item in items if decide(actor, space, READ, as_resource(item), now).allowed]


def readable_metadata(actor: Actor, space: Space, now: datetime) -> list[dict]:
    """The metadata items (no content) of the space's documents ``actor`` may read, by id."""
    return readable(actor, space, sorted(store.all_of(space.patient_id), key=lambda item: item["document_id"]), now)
