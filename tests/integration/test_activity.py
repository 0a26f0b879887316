"""The activity history: newest first, paginated, hash-chained, race-safe, tamper-evident."""

from __future__ import annotations

import threading

import boto3

from chalicelib.core.history import journal as service
from chalicelib.core.models import ActorRef
from chalicelib.core.settings import settings


def _table():
    """The history table, where the events are kept."""
    return boto3.resource("dynamodb", region_name="eu-west-3").Table(settings().module_table("history"))


def _record(patient_id: str, count: int, action: str = "document.read") -> None:
    for n in range(count):
        service.record(patient_id, ActorRef(role="professional", id="10000000009"), action, f"doc_{n}")


def test_history_is_listed_newest_first_with_pages(api, enrolment):
    patient_id, patient = enrolment.active_patient()
    _record(patient_id, 5)
    seen, cursor = [], None
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        page = api.get(f"/v1/patients/{patient_id}/activity{query}", token=patient).json_body
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [e["action"] for e in seen] == ["document.read"] * 5 + ["enrolment.activated", "enrolment.invited"]
    assert [e["resource"] for e in seen[:5]] == ["doc_4", "doc_3", "doc_2", "doc_1", "doc_0"]
    assert seen[0]["actor"] == {"role": "professional", "id": "10000000009"}
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=patient).json_body == {
        "valid": True,
        "events": 7,
        "signed": False,
    }


def test_cursor_of_another_space_is_refused(api, enrolment):
    first, first_token = enrolment.active_patient(1)
    second, second_token = enrolment.active_patient(2)
    foreign = api.get(f"/v1/patients/{second}/activity?limit=1", token=second_token).json_body["next_cursor"]
    response = api.get(f"/v1/patients/{first}/activity?cursor={foreign}", token=first_token)
    assert response.status_code == 400 and response.json_body["error"]["details"][0]["field"] == "cursor"


def test_only_the_patient_reads_their_history(api, enrolment, token):
    patient_id, _ = enrolment.active_patient(1)
    _, other = enrolment.active_patient(2)
    assert api.get(f"/v1/patients/{patient_id}/activity", token=other).status_code == 404
    assert api.get(f"/v1/patients/{patient_id}/activity", token=token("professional")).status_code == 403
    assert api.get(f"/v1/patients/{patient_id}/activity", token=token("insurer")).status_code == 403
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=token("professional")).status_code == 403


def test_concurrent_events_never_fork_nor_overwrite(api, enrolment):
    patient_id, patient = enrolment.active_patient()
    threads = [threading.Thread(target=_record, args=(patient_id, 10, f"test.writer{n}")) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = api.get(f"/v1/patients/{patient_id}/activity/verify", token=patient).json_body
    assert check == {"valid": True, "events": 42, "signed": False}
    items = api.get(f"/v1/patients/{patient_id}/activity?limit=200", token=patient).json_body["items"]
    assert len({e["event_id"] for e in items}) == 42


def test_editing_a_past_event_is_detected(api, enrolment):
    patient_id, patient = enrolment.active_patient()
    _record(patient_id, 3)
    _table().update_item(
        Key={"pk": f"PAT#{patient_id}", "sk": "ACT#000000000002"},
        UpdateExpression="SET actor_id = :someone",
        ExpressionAttributeValues={":someone": "99999999999"},
    )
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=patient).json_body["valid"] is False


def test_deleting_an_event_is_detected(api, enrolment):
    patient_id, patient = enrolment.active_patient()
    _record(patient_id, 3)
    _table().delete_item(Key={"pk": f"PAT#{patient_id}", "sk": "ACT#000000000003"})
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=patient).json_body["valid"] is False


def test_deleting_the_newest_event_is_detected(api, enrolment):
    patient_id, patient = enrolment.active_patient()
    _record(patient_id, 3)
    _table().delete_item(Key={"pk": f"PAT#{patient_id}", "sk": "ACT#000000000005"})
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=patient).json_body["valid"] is False
