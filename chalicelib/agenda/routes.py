"""Agenda endpoints (docs/api.md § Agenda)."""

from __future__ import annotations

from chalicelib.core.http.api import Call, Router, roles

router = Router(__name__, tag="agenda")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.agenda import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.agenda import service

    return service


AGENDA = roles(
    "patient",
    "professional",
    "app",
    note="decided by the access policy (grant; author for changes; agenda:read/agenda:write scopes)",
)
BASE = "/v1/patients/{patient_id}/agenda"


@router.route(
    BASE, "POST", access=AGENDA, body=lambda: models().EventCreate, response=lambda: models().AgendaEvent, status=201
)
def create(call: Call, patient_id: str):
    """Adds an event (appointment, hospitalisation, vaccination or exam reminder)."""
    return service().create(call.principal, patient_id, call.body)


@router.route(BASE, "GET", access=AGENDA, query=lambda: models().AgendaQuery, response=lambda: models().AgendaPage)
def list_events(call: Call, patient_id: str):
    """Events by start time, from ``from`` (default now) to ``to``."""
    return service().list_events(call.principal, patient_id, call.query)


@router.route(BASE + ".ics", "GET", access=AGENDA, raw_content_type="text/calendar")
def feed(call: Call, patient_id: str):
    """The agenda as an iCalendar feed (RFC 5545), times in UTC."""
    return service().ics(call.principal, patient_id)


@router.route(
    BASE + "/{event_id}",
    "PATCH",
    access=AGENDA,
    body=lambda: models().EventPatch,
    response=lambda: models().AgendaEvent,
)
def update(call: Call, patient_id: str, event_id: str):
    """Changes an event (the patient, its author, an app with agenda:write)."""
    return service().update(call.principal, patient_id, event_id, call.body)


@router.route(BASE + "/{event_id}", "DELETE", access=AGENDA, status=204)
def delete(call: Call, patient_id: str, event_id: str):
    """Deletes an event (the patient, its author, an app with agenda:write)."""
    service().delete(call.principal, patient_id, event_id)
