"""FHIR endpoints for professional software (docs/api.md § FHIR interface: PDSm, IHE MHD ITI-65/67/68).

Thin: translation and orchestration in ``chalicelib.fhir.service``, rules in the modules it stands on
(their ``interface.py``). Errors are OperationOutcome resources (the router's error renderer); bodies and answers
are FHIR JSON, search forms are form-encoded: the OpenAPI document says so per operation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib.core.errors import Forbidden
from chalicelib.core.http.api import CONTENT_BODY_LIMIT, PUBLIC, READABLE_MEDIA_TYPES, Call, Raw, Router, roles
from chalicelib.fhir.parameters import DOCUMENT_SEARCH


def fhir():
    """Translation (and fhir.resources under it): loaded with the first FHIR request."""
    from chalicelib.fhir import service

    return service


def observations():
    """Observations (and the profile module's interface under them): loaded with their first request."""
    from chalicelib.fhir import observations

    return observations


def appointments():
    """Appointments (and the agenda module's interface under them): loaded with their first request."""
    from chalicelib.fhir import appointments

    return appointments


def _render_error(error, request):
    return fhir().error_response(error, request)


router = Router(__name__, tag="fhir", render_error=_render_error)
PROFESSIONAL = roles("professional", note="decided per document by the access policy, as the native API")
BUNDLES = roles(
    "professional",
    "patient",
    "app",
    note="a transaction (ITI-65): professionals; a batch of Observations: as POST Observation",
)
MEASURING = roles("patient", "app", note="an app with measurements:write; the patient, a representative, a caregiver")
MEASUREMENTS = roles(
    "patient",
    "professional",
    "app",
    note="an app with measurements:read; professionals who may read, as the native API",
)
BASE = "/v1/fhir"
FHIR_JSON = "application/fhir+json"
FORM = "application/x-www-form-urlencoded"


def resource(body: dict, status: int = 200) -> Raw:
    return Raw(body=json.dumps(body, ensure_ascii=False), content_type=FHIR_JSON, status=status)


def base_url(request: Any) -> str:
    """This API's FHIR base as the client reached it (links of search bundles are absolute)."""
    headers = request.headers or {}
    context = request.context or {}
    stage = context.get("path", "").removesuffix(context.get("resourcePath", "")) if context.get("resourcePath") else ""
    return f"{headers.get('x-forwarded-proto', 'http')}://{headers.get('host', 'localhost')}{stage}{BASE}"


def _params(request: Any) -> dict[str, list[str]]:
    """Query parameters, each with every value given (FHIR repeats parameters)."""
    query = request.query_params
    if not query:
        return {}
    return (
        {name: query.getlist(name) for name in query}
        if hasattr(query, "getlist")
        else {k: [v] for k, v in query.items()}
    )


# --- OpenAPI: FHIR bodies and OperationOutcome errors -----------------------------------------
def _resource_schema(resource_type: str, **properties: dict) -> dict:
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"const": resource_type}, **properties},
    }


OUTCOME = _resource_schema(
    "OperationOutcome",
    issue={
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["severity", "code"],
            "properties": {
                "severity": {"type": "string"},
                "code": {"type": "string"},
                "diagnostics": {"type": "string"},
            },
        },
    },
)
_ENTRIES = {"type": "array", "items": {"type": "object"}}
BUNDLE = _resource_schema(
    "Bundle", type={"type": "string"}, total={"type": "integer", "minimum": 0}, entry=_ENTRIES, link=_ENTRIES
)
TRANSACTION = _resource_schema(
    "Bundle", type={"enum": ["transaction", "batch"]}, entry={**_ENTRIES, "minItems": 1, "maxItems": 200}
)
OBSERVATION = _resource_schema("Observation")
APPOINTMENT = _resource_schema("Appointment")
BOOKING = roles("professional", "app", note="an app with agenda:write, or a professional who may write the agenda")
SEARCH_FORM = {"type": "object", "properties": {name: {"type": "string"} for name in DOCUMENT_SEARCH}}
PATIENT_FORM = {
    "type": "object",
    "required": ["identifier"],
    "properties": {"identifier": {"type": "string", "description": "urn:oid:1.2.250.1.213.1.4.8|<INS>"}},
}


def _query(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    """A search parameter of the OpenAPI document: a string in the query."""
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string"}, "description": description}


PAGING_QUERY = [
    _query("_count", "page size, 1-200 (50)"),
    _query("_cursor", "from the next link"),
    _query("_total", "accurate: counted on every page (else only when the result fits one)"),
]
QUERY = [
    _query("patient", "Patient/<patient_id> or the patient_id", required=True),
    _query("identifier", "masterIdentifier: urn:ietf:rfc:3986|urn:oid:<oid>, or the value alone"),
    _query("type", "LOINC codes of the DMP's list, comma-separated"),
    _query("status", "current, superseded"),
    _query("date", "when deposited: [eq|ge|gt|le|lt]YYYY[-MM[-DD]] or a dateTime"),
    *PAGING_QUERY,
]
OBSERVATION_QUERY = [
    _query("patient", "Patient/<patient_id> or the patient_id", required=True),
    _query("code", "a LOINC code of the contract's list: [http://loinc.org|]<code>"),
    _query("date", "when measured: [eq|ge|gt|le|lt]YYYY[-MM[-DD]] or a dateTime; repeat it for a period"),
    _query("_sort", "date (oldest first) or -date (newest first, the default)"),
    *PAGING_QUERY,
]


def spec(
    answer: dict | None = None,
    *,
    status: int = 200,
    body: tuple[str, dict] | None = None,
    public: bool = False,
    contents: tuple[str, ...] = (),
    query: list | None = None,
) -> Callable[[], dict]:
    """The OpenAPI fields of a FHIR operation: its body's media type and schema, its answer and
    its errors as OperationOutcome."""

    def fields() -> dict:
        from chalicelib.core.http.openapi import ERROR_STATUSES

        ok = {t: {"schema": {}} for t in contents} if contents else {FHIR_JSON: {"schema": answer}}
        responses = {str(status): {"description": "OK", "content": ok}}
        for code, description in ERROR_STATUSES.items():
            if not (public and code == "401"):
                responses[code] = {"description": description, "content": {FHIR_JSON: {"schema": OUTCOME}}}
        doc: dict = {"responses": responses}
        if body:
            doc["requestBody"] = {"required": True, "content": {body[0]: {"schema": body[1]}}}
        if query:
            doc["parameters"] = query
        return doc

    return fields


# --- routes -----------------------------------------------------------------------------------
@router.route(
    BASE + "/metadata", "GET", access=PUBLIC, openapi=spec(_resource_schema("CapabilityStatement"), public=True)
)
def metadata(call: Call):
    """The CapabilityStatement: what this FHIR server answers."""
    from chalicelib.fhir import capability

    return resource(capability.capability_statement())


@router.route(
    BASE,
    "POST",
    access=BUNDLES,
    openapi=spec(BUNDLE, body=(FHIR_JSON, TRANSACTION)),
    body_limit=CONTENT_BODY_LIMIT,
)
def provide(call: Call):
    """ITI-65 Provide Document Bundle (a transaction of a List, DocumentReferences and Binaries), or a
    batch of Observations, each answered on its own."""
    data = fhir().json_body(call.request)
    if data.get("type") == "batch":
        return resource(observations().batch(call.principal, data))
    if call.principal is None or call.principal.role != "professional":
        raise Forbidden("A transaction (ITI-65) is deposited by professional software; apps send a batch.")
    return resource(fhir().provide(call.principal, data))


@router.route(
    BASE + "/Observation",
    "POST",
    access=MEASURING,
    openapi=spec(OBSERVATION, status=201, body=(FHIR_JSON, OBSERVATION)),
)
def create_observation(call: Call):
    """A measurement, the same entry as POST …/profile/measurements; Location: Observation/<entry_id>."""
    created, location = observations().create(call.principal, fhir().json_body(call.request))
    answer = resource(created, 201)
    answer.headers["Location"] = location
    return answer


@router.route(
    BASE + "/Appointment",
    "PUT",
    access=BOOKING,
    openapi=spec(
        APPOINTMENT,
        body=(FHIR_JSON, APPOINTMENT),
        query=[_query("identifier", "the booking's own identifier: <system>|<value>", required=True)],
    ),
)
def put_appointment(call: Call):
    """A booking by its identifier: 201 created or 200 updated, one agenda event per identifier;
    cancelled removes it from the agenda (and its .ics)."""
    identifier = appointments().identifier_of(_params(call.request))
    kept, status = appointments().put(call.principal, identifier, fhir().json_body(call.request))
    return resource(kept, status)


@router.route(BASE + "/Observation", "GET", access=MEASUREMENTS, openapi=spec(BUNDLE, query=OBSERVATION_QUERY))
def find_observations(call: Call):
    """A patient's measurements, newest first (_sort=date: oldest first), a page at a time."""
    return resource(observations().find(call.principal, _params(call.request), base_url(call.request)))


@router.route(BASE + "/DocumentReference", "GET", access=PROFESSIONAL, openapi=spec(BUNDLE, query=QUERY))
def find_documents(call: Call):
    """ITI-67 Find Document References (patient by patient_id: the INS never in a URL)."""
    return resource(fhir().find(call.principal, _params(call.request), True, base_url(call.request)))


@router.route(
    BASE + "/DocumentReference/_search", "POST", access=PROFESSIONAL, openapi=spec(BUNDLE, body=(FORM, SEARCH_FORM))
)
def search_documents(call: Call):
    """ITI-67 by form, also by patient.identifier (the INS)."""
    return resource(fhir().find(call.principal, fhir().form_body(call.request), False, base_url(call.request)))


@router.route(
    BASE + "/DocumentReference/{document_id}",
    "GET",
    access=PROFESSIONAL,
    openapi=spec(_resource_schema("DocumentReference")),
)
def read_document_reference(call: Call, document_id: str):
    """A DocumentReference by document_id (the native metadata read)."""
    documents = fhir().documents
    patient_id = documents.space_of(document_id)
    return resource(fhir().document_reference(documents.metadata(call.caller, patient_id, document_id), patient_id))


@router.route(BASE + "/Binary/{document_id}", "GET", access=PROFESSIONAL, openapi=spec(contents=READABLE_MEDIA_TYPES))
def read_binary(call: Call, document_id: str):
    """ITI-68 Retrieve Document: the bytes, with their media type (the native content read)."""
    documents = fhir().documents
    return documents.read_content(call.caller, documents.space_of(document_id), document_id)


@router.route(BASE + "/Patient/_search", "POST", access=PROFESSIONAL, openapi=spec(BUNDLE, body=(FORM, PATIENT_FORM)))
def search_patients(call: Call):
    """A patient by INS (form body): the rule and history of POST /v1/patients/search."""
    return resource(fhir().find_patient(call.principal, fhir().form_body(call.request), base_url(call.request)))
