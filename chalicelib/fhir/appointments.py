"""Appointments from booking services and hospital agendas (docs/api.md § FHIR for partners): a
conditional update by identifier onto the native agenda, one event (``kind: appointment``) per
booking, through the agenda module's interface (its rules, history, reminders and .ics)."""

from __future__ import annotations

from typing import Any

from chalicelib.agenda import interface as agenda
from chalicelib.core.errors import InvalidRequest
from chalicelib.core.security.auth import Principal
from chalicelib.fhir import service as common

STATUSES = ("booked", "cancelled")
# the native request's fields, as the Appointment says them
FIELDS = {
    "title": "Appointment.description",
    "start": "Appointment.start",
    "end": "Appointment.end",
    "location": "Appointment.participant.actor.display",
    "professional_name": "Appointment.participant.actor.display",
}


def identifier_of(params: dict[str, list[str]]) -> str:
    """``identifier=<system>|<value>``: the booking's own identifier, both parts required."""
    common.only(params, ("identifier",))
    value = common.one(params, "identifier") or ""
    system, bar, given = value.partition("|")
    if not bar or not system or not given:
        raise common.invalid("identifier", "give the booking's identifier as <system>|<value>.")
    return value


def _names(actor: Any, kind: str) -> bool:
    """Whether a participant's actor is a ``kind`` (Practitioner, Location, Patient)."""
    return bool(actor) and ((actor.reference or "").startswith(f"{kind}/") or actor.type == kind)


def _request(data: dict, identifier: str) -> tuple[str, Any | None]:
    """An Appointment → (its patient_id, the native event request; None when cancelled)."""
    from fhir.resources.R4B.appointment import Appointment

    if data.get("resourceType") != "Appointment":
        raise common.invalid("Appointment.resourceType", "send an Appointment.")
    appointment = common.validated(Appointment, data, "Appointment")
    if appointment.status not in STATUSES:
        raise common.invalid("Appointment.status", f"use {' or '.join(STATUSES)}.")
    given = [f"{i.system}|{i.value}" for i in appointment.identifier or []]
    if given and identifier not in given:
        raise common.invalid("Appointment.identifier", "the identifier of the URL must be among the Appointment's.")
    participants = [participant.actor for participant in appointment.participant or []]
    patients = [actor for actor in participants if _names(actor, "Patient")]
    if len(patients) != 1 or not (patients[0].reference or "").startswith("Patient/"):
        raise common.invalid("Appointment.participant", "one participant is the patient: actor Patient/<patient_id>.")
    patient_id = common.patient_id_of(patients[0].reference, "Appointment.participant.actor.reference")
    if appointment.status == "cancelled":
        return patient_id, None
    fields = {
        "kind": "appointment",
        "title": appointment.description,
        "start": data.get("start"),
        "end": data.get("end"),
        "professional_name": next((a.display for a in participants if _names(a, "Practitioner") and a.display), None),
        "location": next((a.display for a in participants if _names(a, "Location") and a.display), None),
    }
    if not fields["title"]:
        raise common.invalid("Appointment.description", "give the appointment's title.")
    if not fields["start"]:
        raise common.invalid("Appointment.start", "a booked appointment has its start.")
    return patient_id, _native({name: value for name, value in fields.items() if value is not None})


def _native(fields: dict) -> Any:
    from pydantic import ValidationError

    try:
        return agenda.event_request(fields)
    except ValidationError as error:
        details = [
            {"field": FIELDS.get(str(item["loc"][0]) if item["loc"] else "", "Appointment"), "message": item["msg"]}
            for item in error.errors(include_url=False, include_input=False)
        ]
        raise InvalidRequest(f"{details[0]['field']}: {details[0]['message']}", details) from None


def put(principal: Principal, identifier: str, data: dict) -> tuple[dict, int]:
    """PUT /v1/fhir/Appointment?identifier=: (the Appointment as kept, 201 created or 200 updated)."""
    patient_id, request = _request(data, identifier)
    event, created = agenda.book(principal, patient_id, identifier, request)
    system, _, value = identifier.partition("|")
    answer = {
        **{k: v for k, v in data.items() if k not in ("id", "meta", "text")},
        "identifier": [{"system": system, "value": value}],
    }
    if event is not None:
        answer["id"] = event.event_id
    return answer, 201 if created else 200
