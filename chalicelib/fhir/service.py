"""The medical record's FHIR R4 face for professional software (PDSm, a French profile of IHE MHD;
docs/api.md § FHIR interface): resources in, the documents service's own calls, resources out.

Nothing is decided here: every deposit, search and read goes through the documents module's
interface onto the native API's own calls (the same access decision, encryption, history, limits
and type checks), and the patient search through ``gate.look_up`` (the rule of ``POST /v1/patients/search``). Incoming
resources are validated with the ``fhir.resources`` R4B models, imported on first use (about a
second): only FHIR deposits pay it, not the module's cold start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from chalicelib.core.errors import ApiError, InvalidIns, InvalidRequest, NotFound, UnsupportedMediaType

# The kernel's bounded, strict JSON and its refusal of control characters, as for every body.
from chalicelib.core.http.api import json_response, parse_json, query_integer, refuse_flaws
from chalicelib.core.http.fields import MEDIA_TYPES, in_utc
from chalicelib.core.policy import document_types, gate
from chalicelib.core.security.auth import Principal
from chalicelib.core.security.identifiers import IDNATPS_SYSTEM, INS_SYSTEM, InvalidIdentifier, normalize_ins
from chalicelib.documents import interface as documents
from chalicelib.fhir import parameters

FHIR_JSON = "application/fhir+json"
JSON_TYPES = (FHIR_JSON, "application/json")  # FHIR servers take both for JSON
FORM = "application/x-www-form-urlencoded"
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
HIDDEN_FROM_REPRESENTATIVES = "INVISIBLE_REPRESENTANTS_LEGAUX"
MASKED = "MASQUE_PS"
MASKED_REFUSED = (
    "MASQUE_PS is the patient's choice, made in their space: deposit the document without it "
    "(the patient can mask it; INVISIBLE_PATIENT keeps it from the patient until you explain it)."
)
STATUSES = ("current", "superseded")
MAX_COUNT = 200

# --- errors: OperationOutcome with the native API's statuses ---------------------------------
ISSUE_TYPES = {
    "invalid_request": "invalid",
    "invalid_ins": "value",
    "invalid_rpps": "value",
    "unauthenticated": "login",
    "forbidden": "forbidden",
    "invalid_code": "security",
    "not_found": "not-found",
    "method_not_allowed": "not-supported",
    "conflict": "conflict",
    "payload_too_large": "too-long",
    "unsupported_media_type": "not-supported",
    "too_many_attempts": "throttled",
    "service_unavailable": "transient",
}


def operation_outcome(error: ApiError) -> dict:
    """The contract's error as FHIR says it: one issue for the error (its code in ``details``),
    one more per invalid field."""
    code = getattr(error, "issue", None) or ISSUE_TYPES.get(error.code, "exception")
    issues = [{"severity": "error", "code": code, "details": {"text": error.code}, "diagnostics": error.message}]
    issues += [
        {
            "severity": "error",
            "code": code,
            "diagnostics": f"{detail['field']}: {detail['message']}",
            "expression": [detail["field"]],
        }
        for detail in error.details or []
    ]
    return {"resourceType": "OperationOutcome", "issue": issues}


def error_response(error: ApiError, request: Any):
    """The FHIR router's error renderer (core.http.api calls it for every error of these routes)."""
    return json_response(error.status, operation_outcome(error), request, {**error.headers, "Content-Type": FHIR_JSON})


@contextmanager
def naming(where: str) -> Iterator[None]:
    """Errors raised inside say which part of the request they are about."""
    try:
        yield
    except ApiError as error:
        raise type(error)(f"{where}: {error.message}", error.details, error.headers) from None


def invalid(where: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{where}: {message}", [{"field": where, "message": message}])


# --- request bodies ---------------------------------------------------------------------------
def _media_type(request: Any) -> str:
    return (request.headers or {}).get("content-type", "").split(";")[0].strip().lower()


def json_body(request: Any) -> dict:
    if _media_type(request) not in JSON_TYPES:
        raise UnsupportedMediaType(f"Send the resource as FHIR JSON with 'Content-Type: {FHIR_JSON}'.")
    data = parse_json(request.raw_body or b"null")
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a FHIR resource (a JSON object).")
    return data


def form_body(request: Any) -> dict[str, list[str]]:
    if _media_type(request) != FORM:
        raise UnsupportedMediaType(f"Send the search parameters as a form, with 'Content-Type: {FORM}'.")
    try:
        return parse_qs((request.raw_body or b"").decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The form is not UTF-8.") from exc


def only(params: dict[str, list[str]], accepted: tuple[str, ...]) -> None:
    refuse_flaws(params, "Some search parameters hold what no text may: see details.")
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise InvalidRequest(
            f"Unknown search parameters: {', '.join(unknown)}. Accepted: {', '.join(accepted)}.",
            [{"field": name, "message": "Unknown search parameter."} for name in unknown],
        )


def one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(name, "give it once.")
    return values[0]


def _ins(value: str, where: str) -> str:
    try:
        return normalize_ins(value)
    except InvalidIdentifier as error:
        raise InvalidIns(f"{where}: {error.message}", [{"field": where, "message": error.message}]) from None


def _ins_token(value: str, where: str) -> str:
    """``urn:oid:1.2.250.1.213.1.4.8|<INS>`` → the INS."""
    system, bar, ins = value.partition("|")
    if not bar or system != INS_SYSTEM:
        raise invalid(where, f"give the INS as {INS_SYSTEM}|<INS>.")
    return _ins(ins, where)


# --- ITI-65: Provide Document Bundle ----------------------------------------------------------
@dataclass
class Submitted:
    """One DocumentReference of a bundle, as this module's deposit request."""

    where: str  # "entry[i] (fullUrl)": how errors name it
    request: Any  # models.DocumentCreate
    index: int  # its entry
    binary_index: int  # its Binary's entry
    master_identifier: str | None  # its uniqueId, from masterIdentifier


def _validate_bundle(data: dict) -> Any:
    from fhir.resources.R4B.bundle import Bundle

    return validated(Bundle, data, "Bundle")


def validated(model: Any, data: dict, root: str) -> Any:
    """``data`` as a fhir.resources R4B model, or a 400 naming each flaw by its path from ``root``."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except (ValidationError, ValueError, TypeError) as error:
        details = _fhir_details(error, root)
        first = details[0] if details else {"field": root, "message": str(error)[:200]}
        raise InvalidRequest(
            f"The {root} is not a valid FHIR R4 resource ({first['field']}: {first['message']}).", details
        ) from None


def _fhir_details(error: Exception, root: str) -> list[dict[str, str]]:
    if not hasattr(error, "errors"):
        return []
    details = []
    for item in error.errors(include_url=False, include_input=False)[:20]:
        path = root
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        details.append({"field": path, "message": item["msg"]})
    return details


def submitted_documents(data: dict) -> tuple[str, list[Submitted]]:
    """The INS and the documents of an ITI-65 transaction Bundle, every entry checked: a List
    (the submission set), DocumentReferences and, for each, the Binary its attachment points to."""
    bundle = _validate_bundle(data)
    if bundle.type != "transaction":
        raise invalid("Bundle.type", "an ITI-65 bundle is a transaction.")
    raw_entries = data.get("entry") or []
    binaries: dict[str, int] = {}
    references: list[int] = []
    lists = 0
    for index, entry in enumerate(bundle.entry or []):
        where = _where(index, entry)
        kind = entry.resource.get_resource_type() if entry.resource is not None else None
        if entry.request is None or entry.request.method != "POST":
            raise invalid(where, "each entry of an ITI-65 transaction is created: request.method POST.")
        if kind == "Binary":
            if not entry.fullUrl or entry.fullUrl in binaries:
                raise invalid(
                    where,
                    "a Binary needs a fullUrl of its own (urn:uuid:...), the attachment.url of its DocumentReference.",
                )
            binaries[entry.fullUrl] = index
        elif kind == "DocumentReference":
            references.append(index)
        elif kind == "List":
            lists += 1
        else:
            raise invalid(
                where, "an ITI-65 bundle holds one List (the submission set), DocumentReferences and their Binaries."
            )
    if lists != 1:
        raise invalid("Bundle.entry", "an ITI-65 bundle holds exactly one List, the submission set.")
    if not references:
        raise invalid("Bundle.entry", "the bundle holds no DocumentReference.")
    documents, patients, used = [], set(), set()
    for index in references:
        entry = bundle.entry[index]
        where = _where(index, entry)
        with naming(where):
            ins, fields, binary_url = _document_fields(entry.resource)
            master = _master_identifier(entry.resource.masterIdentifier)
            if binary_url not in binaries:
                raise invalid("content[0].attachment.url", "point to the fullUrl of a Binary of this bundle.")
            if binary_url in used:
                raise invalid("content[0].attachment.url", "each document has its own Binary.")
            used.add(binary_url)
            binary = bundle.entry[binaries[binary_url]].resource
            raw_binary = raw_entries[binaries[binary_url]]["resource"]
            fields.update(_content_fields(binary, raw_binary, fields.pop("attachment_type")))
            patients.add(ins)
            documents.append(Submitted(where, _deposit_request(fields), index, binaries[binary_url], master))
    unused = sorted(set(binaries) - used)
    if unused:
        raise invalid(f"entry[{binaries[unused[0]]}] ({unused[0]})", "this Binary is no document's content.")
    if len(patients) != 1:
        raise invalid("Bundle.entry", "every document of a bundle is for the same patient (one subject.identifier).")
    return patients.pop(), documents


def _where(index: int, entry: Any) -> str:
    return f"entry[{index}]" + (f" ({entry.fullUrl})" if entry.fullUrl else "")


def _document_fields(reference: Any) -> tuple[str, dict, str]:
    if reference.status != "current":
        raise invalid("status", "a document is deposited current.")
    identifier = reference.subject.identifier if reference.subject else None
    if identifier is None or identifier.system != INS_SYSTEM or not identifier.value:
        raise invalid("subject.identifier", f"name the patient by INS: system {INS_SYSTEM}, value the INS.")
    ins = _ins(identifier.value, "subject.identifier.value")
    codes = [
        coding.code
        for coding in (reference.type.coding or [] if reference.type else [])
        if coding.code and coding.system == document_types.system_of(coding.code)
    ]
    if len(codes) != 1 or document_types.type_of(codes[0]) is None:
        raise invalid("type.coding", document_types.unknown_code_message(codes[0] if codes else None))
    if not reference.content or len(reference.content) != 1:
        raise invalid("content", "one content entry, whose attachment points to the Binary.")
    attachment = reference.content[0].attachment
    title = attachment.title or reference.description
    when = attachment.creation or reference.date
    if not title:
        raise invalid("content[0].attachment.title", "give the document's title.")
    if when is None:
        raise invalid("content[0].attachment.creation", "give the document's date.")
    fields = {
        "type": document_types.type_of(codes[0]),
        "type_code": codes[0],
        "title": title,
        "date": (when if isinstance(when, date) and not isinstance(when, datetime) else _utc(when).date()).isoformat(),
        "attachment_type": attachment.contentType,
        **_security_labels(reference.securityLabel or []),
    }
    replaces = _replaces(reference.relatesTo or [])
    if replaces:
        fields["replaces"] = replaces
    return ins, fields, attachment.url


def _master_identifier(identifier: Any) -> str | None:
    """masterIdentifier (IHE MHD: the XDS uniqueId) → the uniqueId kept, or None when absent."""
    if identifier is None:
        return None
    unique_id = documents.unique_id_of(identifier.value or "")
    if identifier.system not in (None, documents.URI_SYSTEM) or unique_id is None:
        raise invalid(
            "masterIdentifier", f"system {documents.URI_SYSTEM}, value urn:oid:<oid> or urn:uuid:<uuid> (lower case)."
        )
    return unique_id


def _utc(moment: Any) -> datetime:
    field = "content[0].attachment.creation"
    if isinstance(moment, str):  # a partial date the models keep as text (YYYY, YYYY-MM)
        raise invalid(field, "give the document's date as YYYY-MM-DD at least.")
    try:
        return in_utc(moment)
    except ValueError as exc:
        raise invalid(field, f"{exc}.") from None


def _security_labels(labels: list) -> dict:
    codes = {
        coding.code
        for label in labels
        for coding in label.coding or []
        if coding.system == document_types.CONFIDENTIALITY_SYSTEM
    }
    if MASKED in codes:
        raise invalid("securityLabel", MASKED_REFUSED)
    unknown = codes - {INVISIBLE_PATIENT, HIDDEN_FROM_REPRESENTATIVES}
    if unknown:
        raise invalid(
            "securityLabel",
            f"unknown code {sorted(unknown)[0]!r} of {document_types.CONFIDENTIALITY_SYSTEM}: use {INVISIBLE_PATIENT} "
            f"or {HIDDEN_FROM_REPRESENTATIVES}.",
        )
    return {
        "invisible_to_patient": INVISIBLE_PATIENT in codes,
        "hidden_from_representatives": HIDDEN_FROM_REPRESENTATIVES in codes,
    }


def _replaces(relations: list) -> str | None:
    targets = []
    for relation in relations:
        reference = relation.target.reference if relation.target else None
        if relation.code != "replaces" or not reference or not reference.startswith("DocumentReference/"):
            raise invalid("relatesTo", "only replaces is supported, its target DocumentReference/<document_id>.")
        targets.append(reference.removeprefix("DocumentReference/"))
    if len(targets) > 1:
        raise invalid("relatesTo", "a document replaces one older document.")
    return targets[0] if targets else None


def _content_fields(binary: Any, raw_binary: dict, attachment_type: str | None) -> dict:
    accepted = MEDIA_TYPES
    if binary.contentType not in accepted:
        raise UnsupportedMediaType(
            f"Binary.contentType {binary.contentType!r} is not accepted: use one of {', '.join(accepted)}."
        )
    if attachment_type and attachment_type != binary.contentType:
        raise invalid("content[0].attachment.contentType", "must be the Binary's contentType.")
    if not raw_binary.get("data"):
        raise invalid("Binary.data", "give the document's bytes, base64 encoded.")
    return {"media_type": binary.contentType, "content_base64": raw_binary["data"]}


def _deposit_request(fields: dict) -> Any:
    from pydantic import ValidationError

    try:
        return documents.deposit_request(fields)
    except ValidationError as error:
        details = [
            {"field": ".".join(map(str, item["loc"])) or "document", "message": item["msg"]}
            for item in error.errors(include_url=False, include_input=False)
        ]
        raise InvalidRequest(f"{details[0]['field']}: {details[0]['message']}", details) from None


def provide(principal: Principal, data: dict) -> dict:
    """ITI-65: every entry is checked (FHIR, then the deposit's own checks, document by document)
    before anything is written; then the documents are written together, all or nothing."""
    ins, submitted = submitted_documents(data)
    items = gate.open_space_by_ins(ins)
    checked = []
    for document in submitted:
        with naming(document.where):
            checked.append(documents.check_deposit(principal, items, document.request, document.master_identifier))
    locations: dict[int, str] = {}
    for document, written in zip(submitted, documents.deposit_all(checked), strict=True):
        locations[document.index] = f"DocumentReference/{written.document_id}"
        locations[document.binary_index] = f"Binary/{written.document_id}"
    entries = []
    for index in range(len(data.get("entry") or [])):
        response = {"status": "201 Created"}
        if index in locations:
            response["location"] = locations[index]
        entries.append({"response": response})
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}


# --- resources out ----------------------------------------------------------------------------
def _author(document: Any, patient_id: str) -> dict:
    if document.author.role == "professional":
        return {"identifier": {"system": IDNATPS_SYSTEM, "value": f"8{document.author.id}"}}
    if document.author.role == "patient":
        return {"reference": f"Patient/{document.author.id}"}
    return {"display": f"{document.author.role} {document.author.id}"}


def document_reference(document: Any, patient_id: str) -> dict:
    """A document's metadata (documents.models.Document) as a DocumentReference."""
    labels = [
        code
        for code, on in (
            (INVISIBLE_PATIENT, document.invisible_to_patient),
            (HIDDEN_FROM_REPRESENTATIVES, document.hidden_from_representatives),
            (MASKED, document.masked),
        )
        if on
    ]
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": document.document_id,
        "status": document.status,
        "type": {
            "coding": [
                {
                    "system": document_types.system_of(document.type_code),
                    "code": document.type_code,
                    "display": document_types.DISPLAY.get(document.type_code, document.type),
                }
            ]
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": document.created_at,
        "author": [_author(document, patient_id)],
        "description": document.title,
        "content": [
            {
                "attachment": {
                    "contentType": document.media_type,
                    "url": f"Binary/{document.document_id}",
                    "size": document.size,
                    "title": document.title,
                    "creation": document.date,
                }
            }
        ],
    }
    if labels:
        resource["securityLabel"] = [
            {"coding": [{"system": document_types.CONFIDENTIALITY_SYSTEM, "code": code}]} for code in labels
        ]
    if document.master_identifier:
        resource["masterIdentifier"] = documents.master_identifier(document.master_identifier)
    if document.replaces:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{document.replaces}"}}
        ]
    return resource


def searchset(entries: list[dict], total: int | None, links: list[dict]) -> dict:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["entry"] = entries
    if links:
        bundle["link"] = links
    return bundle


# --- ITI-67: Find Document References ---------------------------------------------------------
SEARCH_PARAMETERS = parameters.DOCUMENT_SEARCH
TOTALS = ("none", "estimate", "accurate")  # FHIR's _total: only accurate counts beyond one page
_PREFIXES = ("eq", "ge", "gt", "le", "lt")


def _codes(values: list[str]) -> frozenset[str]:
    """``type`` values: each a comma-separated list (any of), repeated parameters all apply."""
    chosen: frozenset[str] | None = None
    for value in values:
        codes = set()
        for token in value.split(","):
            system, bar, code = token.rpartition("|")
            if (bar and system not in ("", document_types.system_of(code))) or document_types.type_of(code) is None:
                raise invalid("type", document_types.unknown_code_message(code or token))
            codes.add(code)
        chosen = frozenset(codes) if chosen is None else chosen & codes
    return chosen or frozenset()


def _statuses(values: list[str]) -> frozenset[str]:
    chosen: frozenset[str] | None = None
    for value in values:
        statuses = set(value.split(","))
        if not statuses <= set(STATUSES):
            raise invalid("status", f"use {' or '.join(STATUSES)}.")
        chosen = frozenset(statuses) if chosen is None else chosen & statuses
    return chosen or frozenset()


def _moment_range(text: str) -> tuple[datetime, datetime]:
    """The instants a FHIR date or dateTime of some precision covers: [start, end)."""
    try:
        return _covered(text)
    except ValueError as exc:  # a date-time UTC cannot hold, or a period ending after 9999
        raise invalid("date", f"{exc}.") from None


def _covered(text: str) -> tuple[datetime, datetime]:
    for pattern, precision in (("%Y", "year"), ("%Y-%m", "month"), ("%Y-%m-%d", "day")):
        try:
            given = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return _period(in_utc(given), precision)
    try:
        given = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            "give a date (YYYY, YYYY-MM, YYYY-MM-DD) or a dateTime, after an optional eq, ge, gt, le or lt"
        ) from None
    return _period(in_utc(given), "second")


def _period(start: datetime, precision: str) -> tuple[datetime, datetime]:
    try:
        if precision == "year":
            return start, start.replace(year=start.year + 1)
        if precision == "month":
            return start, start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
        return start, start + (timedelta(days=1) if precision == "day" else timedelta(seconds=1))
    except (OverflowError, ValueError):  # the period would end after 9999
        raise ValueError("give a moment before the last second of the year 9999") from None


def date_range(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """``date`` values, all applying: [since, until), each None when open (DocumentReference.date:
    when the document was deposited; Observation's: when it was measured)."""
    since, until = None, None
    for value in values:
        prefix = value[:2] if value[:2] in _PREFIXES else "eq"
        start, end = _moment_range(value[2:] if value[:2] in _PREFIXES else value)
        low = {"eq": start, "ge": start, "gt": end}.get(prefix)
        high = {"eq": end, "le": end, "lt": start}.get(prefix)
        since = low if since is None or (low and low > since) else since
        until = high if until is None or (high and high < until) else until
    return since, until


def count(value: str | None) -> int:
    if value is None:
        return 50
    return query_integer(value, "_count", minimum=1, maximum=MAX_COUNT)


def _master_token(value: str | None) -> str | None:
    """``identifier`` (the masterIdentifier), a FHIR token: ``system|value`` or the value alone → the
    uniqueId the space keeps (a legacy one that is no URN: as given)."""
    if value is None:
        return None
    system, bar, given = value.rpartition("|")
    if (bar and system not in ("", documents.URI_SYSTEM)) or not given:
        raise invalid("identifier", f"give {documents.URI_SYSTEM}|urn:oid:<oid>, or the value alone.")
    return documents.unique_id_of(given) or given


def total(value: str | None) -> bool:
    if value is not None and value not in TOTALS:
        raise invalid("_total", f"use {', '.join(TOTALS)}.")
    return value == "accurate"


def patient_id_of(reference: str, where: str = "patient") -> str:
    patient_id = reference.rsplit("Patient/", 1)[-1]
    if not patient_id or "/" in patient_id:
        raise invalid(where, "give Patient/<patient_id> or the patient_id.")
    return patient_id


def page_links(base: str, path: str, query: dict[str, list[str]], cursor: str | None, following: str | None) -> list:
    """A searchset's self link and, when a page follows, its next link (the same search, its cursor)."""

    def link(relation: str, at: str | None) -> dict:
        page = {**query, **({"_cursor": [at]} if at else {})}
        return {"relation": relation, "url": f"{base}/{path}?{urlencode(page, doseq=True)}"}

    return [link("self", cursor)] + ([link("next", following)] if following else [])


def find(principal: Principal, params: dict[str, list[str]], in_url: bool, base: str) -> dict:
    """ITI-67: a searchset of the DocumentReferences the caller may see, a page at a time; the
    INS (``patient.identifier``) only in a form body, and never in the links given back."""
    only(params, SEARCH_PARAMETERS)
    patient, identifier = one(params, "patient"), one(params, "patient.identifier")
    if identifier is not None and in_url:
        raise invalid(
            "patient.identifier",
            "the INS never travels in a URL: POST /v1/fhir/DocumentReference/_search with it in the form body.",
        )
    if (patient is None) == (identifier is None):
        raise invalid("patient", "give the patient: patient=<patient_id>, or patient.identifier in a POST _search.")
    since, until = date_range(params.get("date", []))
    search = documents.new_search(
        type_codes=_codes(params["type"]) if "type" in params else None,
        statuses=_statuses(params["status"]) if "status" in params else None,
        created_from=since,
        created_until=until,
        count=count(one(params, "_count")),
        cursor=one(params, "_cursor"),
        total=total(one(params, "_total")),
        master_identifier=_master_token(one(params, "identifier")),
    )
    if identifier is not None:
        items = gate.open_space_by_ins(_ins_token(identifier, "patient.identifier"))
    elif patient is not None:  # one of the two, checked above
        items = gate.load_space(patient_id_of(patient))
    found = documents.search(principal, items, search)
    patient_id = items.patient_id
    query = {
        name: values for name, values in params.items() if name not in ("patient", "patient.identifier", "_cursor")
    }
    links = page_links(base, "DocumentReference", {"patient": [patient_id], **query}, search.cursor, found.next_cursor)
    entries = [
        {
            "fullUrl": f"{base}/DocumentReference/{document.document_id}",
            "resource": document_reference(document, patient_id),
            "search": {"mode": "match"},
        }
        for document in found.documents
    ]
    return searchset(entries, found.total, links)


# --- Patient search (PDQm-like, by INS) -------------------------------------------------------
PATIENT_SEARCH_PARAMETERS = parameters.PATIENT_SEARCH


def find_patient(principal: Principal, params: dict[str, list[str]], base: str) -> dict:
    """The Patient (id = patient_id) of an open space, by INS; an empty searchset when there is
    none, as the native search's 404. Same rule and history: ``gate.look_up``."""
    only(params, PATIENT_SEARCH_PARAMETERS)
    identifier = one(params, "identifier")
    if identifier is None:
        raise invalid("identifier", f"give the INS: identifier={INS_SYSTEM}|<INS>.")
    ins = _ins_token(identifier, "identifier")
    try:
        found = gate.look_up(principal, ins)
    except NotFound:
        return searchset([], 0, [])
    patient = {
        "resourceType": "Patient",
        "id": found.space.patient_id,
        "identifier": [{"system": INS_SYSTEM, "value": ins}],
        "active": True,
    }
    return searchset(
        [{"fullUrl": f"{base}/Patient/{patient['id']}", "resource": patient, "search": {"mode": "match"}}], 1, []
    )
