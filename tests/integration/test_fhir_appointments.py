"""Appointments from booking services and hospital agendas (docs/api.md § FHIR for partners): one
agenda event per booking identifier, created, updated, cancelled; visible in the agenda and its .ics."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.integration import test_catalogue as catalogue
from tests.integration import test_fhir as fhir_tests
from tests.integration.test_catalogue import add_app, connect
from tests.integration.test_fhir import FHIR_JSON, grant, outcome, rpps

admin, person, doctor = catalogue.admin, fhir_tests.person, fhir_tests.doctor  # fixtures of those tests, here too
BOOKING = "https://rdv.example.org/bookings"


def later(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def appointment(patient_id: str, status: str = "booked", **extra) -> dict:
    return {
        "resourceType": "Appointment",
        "status": status,
        "description": "Consultation de cardiologie",
        "start": later(days=3),
        "end": later(days=3, minutes=30),
        "participant": [
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/p1", "display": "Dr Martin"}, "status": "accepted"},
            {"actor": {"type": "Location", "display": "Hôpital Nord, bâtiment B"}, "status": "accepted"},
        ],
        **extra,
    }


def put(api, token: str, value: str, resource: dict):
    path = f"/v1/fhir/Appointment?identifier={quote(f'{BOOKING}|{value}', safe='')}"
    return api.put(path, token=token, raw=json.dumps(resource).encode(), headers=FHIR_JSON)


def agenda(api, person) -> list[dict]:
    path = f"/v1/patients/{person['patient_id']}/agenda?limit=200"
    return api.get(path, token=person["token"]).json_body["items"]


def ics(api, person) -> str:
    path = f"/v1/patients/{person['patient_id']}/agenda.ics"
    return api.get(path, token=person["token"], headers={"Accept": "*/*"}).body.decode()


def test_a_booking_is_created_updated_and_cancelled(api, person, doctor):
    grant(api, person, 1)
    created = put(api, doctor, "B-1", appointment(person["patient_id"]))
    assert created.status_code == 201, created.json_body
    (event,) = agenda(api, person)
    assert (event["kind"], event["title"], event["professional_name"], event["location"]) == (
        "appointment",
        "Consultation de cardiologie",
        "Dr Martin",
        "Hôpital Nord, bâtiment B",
    )
    assert created.json_body["id"] == event["event_id"]
    assert "Consultation de cardiologie" in ics(api, person)

    moved = appointment(person["patient_id"], start=later(days=5), end=later(days=5, hours=1))
    again = put(api, doctor, "B-1", moved)
    assert again.status_code == 200, again.json_body
    (event,) = agenda(api, person)  # updated, never duplicated
    assert event["start"] == moved["start"] and again.json_body["id"] == event["event_id"]
    assert put(api, doctor, "B-2", appointment(person["patient_id"])).status_code == 201  # another booking
    assert len(agenda(api, person)) == 2

    cancelled = put(api, doctor, "B-1", appointment(person["patient_id"], status="cancelled"))
    assert cancelled.status_code == 200
    assert [e["event_id"] for e in agenda(api, person)] != [event["event_id"]] and len(agenda(api, person)) == 1
    assert ics(api, person).count("BEGIN:VEVENT") == 1
    assert put(api, doctor, "B-1", appointment(person["patient_id"], status="cancelled")).status_code == 200
    rebooked = put(api, doctor, "B-1", moved)
    assert rebooked.status_code == 200 and rebooked.json_body["id"] == event["event_id"]  # the same booking
    assert len(agenda(api, person)) == 2


def test_an_app_with_agenda_write_books(api, admin, person, token):
    app_id = add_app(api, admin, scopes=["agenda:write", "agenda:read"])["app_id"]
    connect(api, person["patient_id"], person["token"], app_id, ["agenda:write"])
    app = token("app", client_id=app_id, patient_id=person["patient_id"], scope="agenda:write")
    assert put(api, app, "A-1", appointment(person["patient_id"])).status_code == 201
    assert put(api, app, "A-1", appointment(person["patient_id"], description="Contrôle")).status_code == 200
    assert [e["title"] for e in agenda(api, person)] == ["Contrôle"]
    reader = token("app", client_id=app_id, patient_id=person["patient_id"], scope="agenda:read")
    assert put(api, reader, "A-2", appointment(person["patient_id"])).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "proposed"}, "Appointment.status"),
        ({"start": "tomorrow"}, "Appointment.start"),
        ({"end": later(days=1)}, "Appointment.end"),  # before the start
        ({"description": None}, "Appointment.description"),
        (
            {"participant": [{"actor": {"reference": "Practitioner/p1"}, "status": "accepted"}]},
            "Appointment.participant",
        ),
        ({"identifier": [{"system": BOOKING, "value": "another"}]}, "Appointment.identifier"),
    ],
)
def test_anything_else_is_a_400_naming_the_field(api, person, doctor, change, field):
    grant(api, person, 1)
    resource = {
        key: value for key, value in {**appointment(person["patient_id"]), **change}.items() if value is not None
    }
    refused = put(api, doctor, "B-9", resource)
    assert refused.status_code == 400, refused.json_body
    expressions = [issue.get("expression", [""])[0] for issue in outcome(refused)["issue"]]
    assert any(expression.startswith(field) for expression in expressions), expressions
    assert agenda(api, person) == []


def test_who_may_book(api, person, doctor, token):
    assert put(api, doctor, "B-1", appointment(person["patient_id"])).status_code == 403  # no access yet
    assert put(api, person["token"], "B-1", appointment(person["patient_id"])).status_code == 403  # a patient
    missing = api.put("/v1/fhir/Appointment", token=doctor, raw=b"{}", headers=FHIR_JSON)
    assert missing.status_code == 400 and "identifier" in str(outcome(missing))
    grant(api, person, 1)
    put(api, doctor, "B-1", appointment(person["patient_id"]))
    grant(api, person, 2)
    other = token("professional", rpps=rpps(2), profession="medecin")
    assert put(api, other, "B-1", appointment(person["patient_id"], status="cancelled")).status_code == 403
    assert len(agenda(api, person)) == 1


def test_two_first_sendings_racing_make_one_event(api, person, doctor):
    grant(api, person, 1)
    answers: list[int] = []

    def send() -> None:
        answers.append(put(api, doctor, "B-race", appointment(person["patient_id"])).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers)[0] in (200, 201) and answers.count(201) == 1
    assert len(agenda(api, person)) == 1
