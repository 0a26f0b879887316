"""The health agenda through the API on moto: who may write, validation, UTC, iCalendar, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from icalendar import Calendar

from chalicelib.core import clock
from chalicelib.core.data import layout
from chalicelib.core.security.identifiers import rpps_check_digit
from chalicelib.core.settings import settings


def rpps(n: int) -> str:
    first = f"{n:010d}"
    return first + rpps_check_digit(first)


def at(delta: timedelta) -> datetime:
    return (clock.now() + delta).replace(microsecond=0)


def event(**overrides) -> dict:
    return {
        "kind": "appointment",
        "title": "Consultation cardiologie",
        "start": clock.iso(at(timedelta(days=3))),
        "end": clock.iso(at(timedelta(days=3, minutes=30))),
        "location": "Hôpital Saint-Louis, Paris",
        "professional_name": "Dr Martin",
        **overrides,
    }


def _table(kind: str | None = None):
    name = settings().table_name if kind is None else settings().module_table(kind)
    return boto3.resource("dynamodb", region_name="eu-west-3").Table(name)


def _grant(api, patient_id, patient, rpps_):
    from app import app

    if "/v1/patients/{patient_id}/access/grants/{rpps}" in app.routes:
        assert api.put(f"/v1/patients/{patient_id}/access/grants/{rpps_}", {}, token=patient).status_code == 200
    else:
        _table().put_item(
            Item={
                "pk": f"PAT#{patient_id}",
                "sk": f"SPACE#GRANT#{rpps_}",
                "rpps": rpps_,
                "granted_at": "2026-01-01T00:00:00Z",
            }
        )


def _connect_app(patient_id, client_id, scopes):
    """A referenced app connected to the space (the items the catalogue module writes in its table)."""
    catalogue = _table(layout.CATALOGUE_TABLE)
    catalogue.put_item(Item={**layout.app(client_id), "app_id": client_id, "status": "referenced"})
    connection = {"connection_id": f"cnx-{client_id}", "app_id": client_id, "scopes": scopes}
    created = {"created_at": "2026-01-01T00:00:00Z"}
    catalogue.put_item(Item={**layout.connection(patient_id, connection["connection_id"]), **connection, **created})
    catalogue.put_item(Item={**layout.app_connection(patient_id, client_id), **connection})


@pytest.fixture
def space(enrolment, token):
    patient_id, patient = enrolment.active_patient()
    doctor = token("professional", rpps=rpps(1), profession="medecin", name="Dr Martin")
    return patient_id, patient, doctor


def _push(api, patient_id, who, **overrides) -> dict:
    response = api.post(f"/v1/patients/{patient_id}/agenda", event(**overrides), token=who)
    assert response.status_code == 201, response.json_body
    return response.json_body


def _list(api, patient_id, who, query="") -> list[dict]:
    response = api.get(f"/v1/patients/{patient_id}/agenda{query}", token=who)
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]


def test_patient_pushes_lists_updates_and_deletes(api, space):
    patient_id, patient, _ = space
    created = _push(api, patient_id, patient, start="2030-05-10T10:30:00+02:00", end="2030-05-10T11:00:00+02:00")
    assert (
        created["event_id"] and created["start"] == "2030-05-10T08:30:00Z" and created["end"] == "2030-05-10T09:00:00Z"
    )
    assert created["author"]["role"] == "patient" and created["kind"] == "appointment"
    assert [e["event_id"] for e in _list(api, patient_id, patient)] == [created["event_id"]]

    path = f"/v1/patients/{patient_id}/agenda/{created['event_id']}"
    patched = api.patch(
        path, {"start": "2030-05-11T08:00:00Z", "end": None, "title": "Consultation déplacée"}, token=patient
    )
    assert patched.status_code == 200, patched.json_body
    assert patched.json_body["start"] == "2030-05-11T08:00:00Z" and patched.json_body["end"] is None
    (listed,) = _list(api, patient_id, patient)
    assert listed["title"] == "Consultation déplacée" and listed["start"] == "2030-05-11T08:00:00Z"

    assert api.delete(path, token=patient).status_code == 204
    assert _list(api, patient_id, patient) == []
    assert api.delete(path, token=patient).status_code == 404
    assert api.patch(path, {"title": "x"}, token=patient).status_code == 404

    history = api.get(f"/v1/patients/{patient_id}/activity", token=patient).json_body["items"]
    actions = [e["action"] for e in history]
    assert actions[:3] == ["agenda.deleted", "agenda.updated", "agenda.created"]
    assert all(e["resource"] == created["event_id"] for e in history[:3])
    assert "cardiologie" not in str(history)


def test_listing_by_period_from_now_by_default(api, space):
    patient_id, patient, _ = space
    past = _push(api, patient_id, patient, start=clock.iso(at(-timedelta(days=2))), end=None)
    soon = _push(api, patient_id, patient, start=clock.iso(at(timedelta(days=1))), end=None)
    later = _push(api, patient_id, patient, start=clock.iso(at(timedelta(days=40))), end=None)
    assert [e["event_id"] for e in _list(api, patient_id, patient)] == [soon["event_id"], later["event_id"]]
    since = clock.iso(at(-timedelta(days=10)))
    assert [e["event_id"] for e in _list(api, patient_id, patient, f"?from={since}")] == [
        past["event_id"],
        soon["event_id"],
        later["event_id"],
    ]
    until = clock.iso(at(timedelta(days=2)))
    assert [e["event_id"] for e in _list(api, patient_id, patient, f"?from={since}&to={until}")] == [
        past["event_id"],
        soon["event_id"],
    ]
    page = api.get(f"/v1/patients/{patient_id}/agenda?from={since}&limit=2", token=patient).json_body
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get(
        f"/v1/patients/{patient_id}/agenda?from={since}&limit=2&cursor={page['next_cursor']}", token=patient
    ).json_body
    assert [e["event_id"] for e in rest["items"]] == [later["event_id"]]
    naive = api.get(f"/v1/patients/{patient_id}/agenda?from=2030-01-01T00:00:00", token=patient)
    assert naive.status_code == 400 and naive.json_body["error"]["details"][0]["field"] == "from"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "surgery"}, "kind"),
        ({"start": "2030-05-10T10:00:00"}, "start"),
        ({"end": "2030-05-10T10:00:00"}, "end"),
        ({"start": "2030-05-10T10:00:00Z", "end": "2030-05-10T09:59:59Z"}, "end"),
        ({"start": "demain"}, "start"),
        ({"title": ""}, "title"),
        ({"colour": "red"}, "colour"),
    ],
    ids=["unknown-kind", "naive-start", "naive-end", "end-before-start", "not-a-date", "empty-title", "unknown-field"],
)
def test_validation_names_the_field(api, space, overrides, field):
    patient_id, patient, _ = space
    response = api.post(f"/v1/patients/{patient_id}/agenda", event(**overrides), token=patient)
    assert response.status_code == 400 and response.json_body["error"]["code"] == "invalid_request"
    assert [d["field"] for d in response.json_body["error"]["details"]] == [field]
    if field == "kind":
        assert "vaccination_reminder" in response.json_body["error"]["details"][0]["message"]


def test_patch_validation(api, space):
    patient_id, patient, _ = space
    created = _push(api, patient_id, patient)
    path = f"/v1/patients/{patient_id}/agenda/{created['event_id']}"
    before = api.patch(path, {"end": clock.iso(at(timedelta(days=1)))}, token=patient)
    assert before.status_code == 400 and before.json_body["error"]["details"][0]["field"] == "end"
    assert api.patch(path, {"start": None}, token=patient).status_code == 400
    assert api.patch(path, {}, token=patient).status_code == 400


def test_who_may_write(api, space, token):
    patient_id, patient, doctor = space
    stranger = token("professional", rpps=rpps(2), profession="medecin")
    assert api.post(f"/v1/patients/{patient_id}/agenda", event(), token=doctor).status_code == 403  # no grant
    _grant(api, patient_id, patient, rpps(1))
    _grant(api, patient_id, patient, rpps(3))
    mine = _push(api, patient_id, doctor)
    assert mine["author"] == {"role": "professional", "id": rpps(1)}
    patients = _push(api, patient_id, patient)
    colleague = token("professional", rpps=rpps(3), profession="infirmier")
    # the author professional updates and deletes their own event; not the patient's, not a colleague's
    own = f"/v1/patients/{patient_id}/agenda/{mine['event_id']}"
    assert api.patch(own, {"location": "Cabinet, 12 rue Oberkampf"}, token=doctor).status_code == 200
    assert (
        api.patch(f"/v1/patients/{patient_id}/agenda/{patients['event_id']}", {"title": "x"}, token=doctor).status_code
        == 403
    )
    assert api.delete(own, token=colleague).status_code == 403
    assert api.get(f"/v1/patients/{patient_id}/agenda", token=stranger).status_code == 403
    assert api.delete(own, token=doctor).status_code == 204
    # apps: agenda:write pushes, agenda:read only reads
    _connect_app(patient_id, "app-rdv", ["agenda:write", "agenda:read"])
    _connect_app(patient_id, "app-lecture", ["agenda:read"])
    writer = token("app", client_id="app-rdv", patient_id=patient_id, scope="agenda:write agenda:read")
    reader = token("app", client_id="app-lecture", patient_id=patient_id, scope="agenda:read")
    pushed = _push(api, patient_id, writer, kind="vaccination_reminder", title="Rappel DTP")
    assert pushed["author"] == {"role": "app", "id": "app-rdv"}
    assert api.post(f"/v1/patients/{patient_id}/agenda", event(), token=reader).status_code == 403
    assert len(_list(api, patient_id, reader)) == 2
    insurer = token("insurer")
    assert api.get(f"/v1/patients/{patient_id}/agenda", token=insurer).status_code == 403


def test_ics_feed_parses_and_is_in_utc(api, space):
    patient_id, patient, _ = space
    first = _push(api, patient_id, patient, start="2030-05-10T10:30:00+02:00", end="2030-05-10T11:00:00+02:00")
    second = _push(
        api,
        patient_id,
        patient,
        kind="hospitalisation",
        title="Hospitalisation de jour",
        start="2030-06-01T07:00:00Z",
        end=None,
        location=None,
    )
    response = api.get(f"/v1/patients/{patient_id}/agenda.ics", token=patient, headers={"Accept": "*/*"})
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.body)
    assert str(calendar["version"]) == "2.0" and calendar.get("prodid")
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{first['event_id']}@monespacesante.fr", f"{second['event_id']}@monespacesante.fr"}
    one = events[f"{first['event_id']}@monespacesante.fr"]
    assert one.decoded("dtstart") == datetime(2030, 5, 10, 8, 30, tzinfo=UTC)
    assert one.decoded("dtstart").utcoffset() == timedelta(0)
    assert one.decoded("dtend") == datetime(2030, 5, 10, 9, 0, tzinfo=UTC)
    assert str(one["summary"]) == "Consultation cardiologie" and str(one["location"]) == "Hôpital Saint-Louis, Paris"
    two = events[f"{second['event_id']}@monespacesante.fr"]
    assert "dtend" not in two and two.decoded("dtstart") == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)
    text = response.body.decode()
    assert "DTSTART:20300510T083000Z" in text and "\r\n" in text


def test_reminder_is_sent_exactly_once(api, space, enrolment):
    from chalicelib.agenda import service as agenda
    from chalicelib.agenda import store
    from devstack import workers
    from devstack.outbox import sent
    from tests.conftest import invitee

    patient_id, patient, _ = space
    email = invitee(1)["email"]
    soon = _push(api, patient_id, patient, start=clock.iso(at(timedelta(hours=3))), end=None, title="Coloscopie")
    _push(api, patient_id, patient, start=clock.iso(at(timedelta(hours=30))), end=None)  # not within 24 hours
    _push(api, patient_id, patient, start=clock.iso(at(-timedelta(hours=1))), end=None)  # already started
    before = len(sent(to=email))

    due = store.due(
        store.reminder_bucket(at(timedelta(hours=3))), clock.iso(clock.now()), clock.iso(at(timedelta(hours=24)))
    )
    assert agenda.send_reminders() == 1
    assert agenda.send_reminders() == 0  # the schedule fires twice
    workers.run_schedules()  # and once more through the scheduled handler
    assert agenda.remind(due[0], clock.now()) is False  # an overlapping run that saw it before the claim
    notes = sent(to=email)[before:]
    assert len(notes) == 1
    assert (
        "Rappel" in notes[0]["subject"]
        and "Coloscopie" not in notes[0]["body"]
        and "appointment" not in notes[0]["body"]
    )
    history = [
        e
        for e in api.get(f"/v1/patients/{patient_id}/activity", token=patient).json_body["items"]
        if e["action"] == "agenda.reminded"
    ]
    assert [e["resource"] for e in history] == [soon["event_id"]]

    # moved to another time within 24 hours: reminded again, once, for the new time
    path = f"/v1/patients/{patient_id}/agenda/{soon['event_id']}"
    assert api.patch(path, {"start": clock.iso(at(timedelta(hours=5)))}, token=patient).status_code == 200
    assert agenda.send_reminders() == 1 and agenda.send_reminders() == 0
    assert len(sent(to=email)) == before + 2
    # a title change keeps the reminder as sent
    assert api.patch(path, {"title": "Examen"}, token=patient).status_code == 200
    assert agenda.send_reminders() == 0
