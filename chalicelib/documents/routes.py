"""Document endpoints (docs/api.md § Documents)."""

from __future__ import annotations

from chalicelib.core.http.api import CONTENT_BODY_LIMIT, READABLE_MEDIA_TYPES, Call, Router, roles

router = Router(__name__, tag="documents")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.documents import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.documents import service

    return service


RECORD = roles("patient", "professional", "app", note="decided per document by the access policy")
BASE = "/v1/patients/{patient_id}/documents"
MEDIA_TYPES = READABLE_MEDIA_TYPES


@router.route(
    BASE,
    "POST",
    access=RECORD,
    body=lambda: models().DocumentCreate,
    response=lambda: models().Document,
    status=201,
    body_limit=CONTENT_BODY_LIMIT,
)
def deposit(call: Call, patient_id: str):
    """Deposits a document (encrypted before it is stored)."""
    return service().deposit(call.principal, patient_id, call.body)


@router.route(BASE, "GET", access=RECORD, query=lambda: models().DocumentQuery, response=lambda: models().DocumentPage)
def list_documents(call: Call, patient_id: str):
    """The documents the caller may see, newest first."""
    return service().list_documents(call.principal, patient_id, call.query)


@router.route(BASE + "/{document_id}", "GET", access=RECORD, response=lambda: models().Document)
def metadata(call: Call, patient_id: str, document_id: str):
    """A document's metadata."""
    return service().metadata(call.principal, patient_id, document_id)


@router.route(BASE + "/{document_id}/content", "GET", access=RECORD, raw_content_type=MEDIA_TYPES)
def content(call: Call, patient_id: str, document_id: str):
    """A document's bytes, with its media type as Content-Type."""
    return service().read_content(call.principal, patient_id, document_id)


@router.route(
    BASE + "/{document_id}",
    "PATCH",
    access=RECORD,
    body=lambda: models().DocumentPatch,
    response=lambda: models().Document,
)
def update(call: Call, patient_id: str, document_id: str):
    """Masks/unmasks (patient) or releases to the patient (author)."""
    return service().update(call.principal, patient_id, document_id, call.body)


@router.route(BASE + "/{document_id}", "DELETE", access=RECORD, status=204)
def delete(call: Call, patient_id: str, document_id: str):
    """Deletes a document and every stored version of its content (patient or author)."""
    service().delete(call.principal, patient_id, document_id)
