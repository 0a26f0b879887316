"""Measurements as FHIR Observations for partner apps (docs/api.md § FHIR for partners): created one
at a time or in a ``batch`` Bundle, searched a page at a time. Each is the native measurement of
``…/profile/measurements`` (one store, one entry id): translated here, decided, validated, stored and
recorded by the profile module's interface, its LOINC and UCUM table the one both sides read.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import ApiError, InvalidRequest, PayloadTooLarge
from chalicelib.core.security.auth import Principal
from chalicelib.fhir import parameters
from chalicelib.fhir import service as common
from chalicelib.profile import interface as profile

STATUSES = ("final", "amended", "corrected", "preliminary")
MAX_BATCH = 200
SEARCH_PARAMETERS = parameters.OBSERVATION_SEARCH
SORTS = ("date", "-date")
REASONS = {201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
# the native request's fields, as the Observation says them
FIELDS = {
    "kind": "Observation.code",
    "unit": "Observation.valueQuantity.code",
    "value": "Observation.valueQuantity.value",
    "measured_at": "Observation.effectiveDateTime",
    "device": "Observation.device.display",
}


def _validated(data: dict) -> Any:
    """The Observation as FHIR R4 says it may be (fhir.resources), every flaw named by its path."""
    from fhir.resources.R4B.observation import Observation

    if data.get("resourceType") != "Observation":
        raise common.invalid("Observation.resourceType", "send an Observation.")
    return common.validated(Observation, data, "Observation")


def _quantity(raw: Any, unit: str, where: str) -> Any:
    if not isinstance(raw, dict) or "value" not in raw:
        raise common.invalid(where, f"give a valueQuantity: value, system {profile.UCUM}, code {unit}.")
    if raw.get("system") != profile.UCUM or raw.get("code") != unit:
        raise common.invalid(
            f"{where}.code", f"this code is measured in UCUM {unit} (system {profile.UCUM}, code {unit})."
        )
    return raw["value"]


def _components(data: dict, unit: str) -> dict:
    """A blood pressure panel's systolic and diastolic components → the native value."""
    if "valueQuantity" in data:
        raise common.invalid("Observation.valueQuantity", "a blood pressure panel gives its values in component.")
    by_code: dict[str, Any] = {}
    for index, component in enumerate(data.get("component") or []):
        codes = [c.get("code") for c in component.get("code", {}).get("coding", []) if c.get("system") == profile.LOINC]
        where = f"Observation.component[{index}]"
        if len(codes) != 1 or codes[0] not in (profile.SYSTOLIC[0], profile.DIASTOLIC[0]) or codes[0] in by_code:
            raise common.invalid(
                f"{where}.code", f"one of LOINC {profile.SYSTOLIC[0]} (systolic), {profile.DIASTOLIC[0]}."
            )
        by_code[codes[0]] = _quantity(component.get("valueQuantity"), unit, f"{where}.valueQuantity")
    if set(by_code) != {profile.SYSTOLIC[0], profile.DIASTOLIC[0]}:
        raise common.invalid(
            "Observation.component", f"give {profile.SYSTOLIC[0]} and {profile.DIASTOLIC[0]}, in {unit}."
        )
    return {"systolic": by_code[profile.SYSTOLIC[0]], "diastolic": by_code[profile.DIASTOLIC[0]]}


def measurement(data: dict) -> tuple[str, Any]:
    """An Observation → (its patient_id, the native measurement request), or a 400 naming the field."""
    observation = _validated(data)
    if observation.status not in STATUSES:
        raise common.invalid("Observation.status", f"use {', '.join(STATUSES)}.")
    reference = observation.subject.reference if observation.subject else None
    if not reference or not reference.startswith("Patient/"):
        raise common.invalid("Observation.subject", "name the patient: Patient/<patient_id>.")
    patient_id = common.patient_id_of(reference, "Observation.subject")
    codes = [
        coding.code
        for coding in (observation.code.coding or [])
        if coding.system == profile.LOINC and coding.code in profile.KIND_OF_CODE
    ]
    if len(codes) != 1:
        accepted = ", ".join(code for code, _, _ in profile.CODES.values())
        raise common.invalid("Observation.code", f"one LOINC code ({profile.LOINC}) of: {accepted}.")
    kind, unit = profile.KIND_OF_CODE[codes[0]]
    if "effectiveDateTime" not in data:
        raise common.invalid("Observation.effectiveDateTime", "give when it was measured, a dateTime with its offset.")
    if kind == "blood_pressure":
        value = _components(data, unit)
    else:
        value = _quantity(data.get("valueQuantity"), unit, "Observation.valueQuantity")
    fields = {"kind": kind, "unit": unit, "value": value, "measured_at": data["effectiveDateTime"]}
    if observation.device is not None:
        fields["device"] = observation.device.display
    return patient_id, _native(fields)


def _native(fields: dict) -> Any:
    from pydantic import ValidationError

    try:
        return profile.measurement_request(fields)
    except ValidationError as error:
        details = []
        for item in error.errors(include_url=False, include_input=False):
            name = str(item["loc"][0]) if item["loc"] else "value"
            field = "Observation.component" if name == "value" and fields["kind"] == "blood_pressure" else FIELDS[name]
            details.append({"field": field, "message": item["msg"]})
        raise InvalidRequest(f"{details[0]['field']}: {details[0]['message']}", details) from None


def resource(measurement: Any, patient_id: str) -> dict:
    """A native measurement (profile models.Measurement) as an Observation (id: its entry_id)."""
    item = measurement.model_dump(mode="json")
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": item["entry_id"],
        "status": "final",
        **profile.observation_parts(item),
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": item["measured_at"],
        "issued": item["recorded_at"],
    }
    if item.get("device"):
        observation["device"] = {"display": item["device"]}
    return observation


def create(principal: Principal, data: dict) -> tuple[dict, str]:
    """POST /v1/fhir/Observation: (the Observation created, its Location)."""
    patient_id, request = measurement(data)
    created = profile.add_measurement(principal, patient_id, request)
    return resource(created, patient_id), f"Observation/{created.entry_id}"


# --- batch ------------------------------------------------------------------------------------
def batch(principal: Principal, data: dict) -> dict:
    """A ``batch`` Bundle of Observations: each entry answered on its own, as a single POST would."""
    entries = data.get("entry")
    if not isinstance(entries, list) or not entries:
        raise common.invalid("Bundle.entry", "a batch holds at least one entry.")
    if len(entries) > MAX_BATCH:
        raise PayloadTooLarge(f"At most {MAX_BATCH} entries in a batch: split it.")
    return {"resourceType": "Bundle", "type": "batch-response", "entry": [_entry(principal, e) for e in entries]}


def _entry(principal: Principal, entry: Any) -> dict:
    try:
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or request.get("method") != "POST" or request.get("url") != "Observation":
            raise common.invalid("Bundle.entry.request", "each entry of a batch is a POST of an Observation.")
        if not isinstance(entry.get("resource"), dict):
            raise common.invalid("Bundle.entry.resource", "give the Observation.")
        _, location = create(principal, entry["resource"])
        return {"response": {"status": "201 Created", "location": location}}
    except ApiError as error:
        status = f"{error.status} {REASONS.get(error.status, '')}".strip()
        return {"response": {"status": status, "outcome": common.operation_outcome(error)}}


# --- search -----------------------------------------------------------------------------------
def _code(value: str | None) -> tuple[str | None, str | None]:
    """``code`` = [http://loinc.org|]<code> → (kind, unit), both None when absent."""
    if value is None:
        return None, None
    system, bar, code = value.rpartition("|")
    if (bar and system not in ("", profile.LOINC)) or code not in profile.KIND_OF_CODE:
        accepted = ", ".join(code for code, _, _ in profile.CODES.values())
        raise common.invalid("code", f"one LOINC code of: {accepted}.")
    return profile.KIND_OF_CODE[code]


def find(principal: Principal, params: dict[str, list[str]], base: str) -> dict:
    """GET /v1/fhir/Observation: a searchset of one patient's measurements, a page at a time."""
    common.only(params, SEARCH_PARAMETERS)
    patient = common.one(params, "patient")
    if patient is None:
        raise common.invalid("patient", "give the patient: patient=<patient_id>.")
    patient_id = common.patient_id_of(patient, "patient")
    kind, unit = _code(common.one(params, "code"))
    since, until = (clock.iso(moment) if moment else None for moment in common.date_range(params.get("date", [])))
    sort = common.one(params, "_sort") or "-date"
    if sort not in SORTS:
        raise common.invalid("_sort", f"use {' or '.join(SORTS)}.")
    cursor = common.one(params, "_cursor")
    found = profile.search_measurements(
        principal,
        patient_id,
        kind=kind,
        unit=unit,
        since=since,
        until=until,
        newest_first=sort == "-date",
        count=common.count(common.one(params, "_count")),
        cursor=cursor,
        total=common.total(common.one(params, "_total")),
    )
    query = {name: values for name, values in params.items() if name not in ("patient", "_cursor")}
    links = common.page_links(base, "Observation", {"patient": [patient_id], **query}, cursor, found.next_cursor)
    entries = [
        {
            "fullUrl": f"{base}/Observation/{measurement.entry_id}",
            "resource": resource(measurement, patient_id),
            "search": {"mode": "match"},
        }
        for measurement in found.measurements
    ]
    return common.searchset(entries, found.total, links)
