"""Secure messaging through the API on moto: participants, policy, encryption, read marks."""

from __future__ import annotations

import base64

import boto3
import pytest

from chalicelib.core.security.identifiers import rpps_check_digit
from chalicelib.core.settings import settings
from tests.conftest import every_stored_item
from tests.permissions import FUNCTION

SECRET = "Vos résultats de glycémie sont à 1,45 g/L"
PDF = b"%PDF-1.7\nOrdonnance: metformine 500 mg\n%%EOF"


def rpps(n: int) -> str:
    first = f"{n:010d}"
    return first + rpps_check_digit(first)


def attachment(**overrides) -> dict:
    return {
        "filename": "ordonnance.pdf",
        "media_type": "application/pdf",
        "content_base64": base64.b64encode(PDF).decode(),
        **overrides,
    }


@pytest.fixture
def space(enrolment, token):
    patient_id, patient = enrolment.active_patient()
    doctor = token("professional", rpps=rpps(1), profession="medecin", name="Dr Martin")
    return patient_id, patient, doctor


def _open(api, patient_id, doctor, **overrides) -> dict:
    body = {"patient_id": patient_id, "subject": "Vos résultats", "body": SECRET, **overrides}
    response = api.post("/v1/conversations", body, token=doctor)
    assert response.status_code == 201, response.json_body
    return response.json_body


def _messages(api, conversation_id, who) -> list[dict]:
    response = api.get(f"/v1/conversations/{conversation_id}/messages", token=who)
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]


def _inbox(api, who) -> list[dict]:
    response = api.get("/v1/conversations", token=who)
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]


def _objects() -> list[str]:
    s3 = boto3.client("s3", region_name="eu-west-3")
    return [v["Key"] for v in s3.list_object_versions(Bucket=settings().messages_bucket).get("Versions", [])]


def _history(api, patient_id, patient) -> list[dict]:
    return api.get(f"/v1/patients/{patient_id}/activity", token=patient).json_body["items"]


def test_open_reply_list_read_and_unread_counts(api, space):
    patient_id, patient, doctor = space
    opened = _open(api, patient_id, doctor)
    cid = opened["conversation_id"]

    (entry,) = _inbox(api, patient)
    assert entry["conversation_id"] == cid and entry["subject"] == "Vos résultats" and entry["unread"] == 1
    assert entry["professional"] == {"rpps": rpps(1), "name": "Dr Martin"} and entry["patient_id"] == patient_id
    assert _inbox(api, doctor)[0]["unread"] == 0

    (message,) = _messages(api, cid, patient)
    assert message["message_id"] == opened["message_id"] and message["body"] == SECRET
    assert message["author"] == {"role": "professional", "id": rpps(1)} and message["attachments"] == []
    assert _inbox(api, patient)[0]["unread"] == 0  # read mark

    reply = api.post(f"/v1/conversations/{cid}/messages", {"body": "Merci docteur"}, token=patient)
    assert reply.status_code == 201, reply.json_body
    assert _inbox(api, doctor)[0]["unread"] == 1
    listed = _messages(api, cid, doctor)
    assert [m["body"] for m in listed] == [SECRET, "Merci docteur"]  # oldest first
    assert listed[0]["read"] is True  # the patient read the doctor's message
    assert _inbox(api, doctor)[0]["unread"] == 0
    assert _messages(api, cid, patient)[1]["read"] is True  # the doctor read the reply

    actions = [e["action"] for e in _history(api, patient_id, patient)]
    assert {"conversation.opened", "message.sent", "conversation.read"} <= set(actions)
    assert all(SECRET not in str(e) and "Merci" not in str(e) for e in _history(api, patient_id, patient))


def test_inbox_newest_activity_first_and_paginated(api, space):
    patient_id, patient, doctor = space
    first = _open(api, patient_id, doctor, subject="Premier")["conversation_id"]
    second = _open(api, patient_id, doctor, subject="Second")["conversation_id"]
    import time

    time.sleep(1.1)  # last_message_at has second precision
    api.post(f"/v1/conversations/{first}/messages", {"body": "Relance"}, token=doctor)
    assert [c["conversation_id"] for c in _inbox(api, patient)] == [first, second]
    page = api.get("/v1/conversations?limit=1", token=patient).json_body
    assert [c["conversation_id"] for c in page["items"]] == [first] and page["next_cursor"]
    rest = api.get(f"/v1/conversations?limit=1&cursor={page['next_cursor']}", token=patient).json_body
    assert [c["conversation_id"] for c in rest["items"]] == [second]
    foreign = api.get(f"/v1/conversations?cursor={page['next_cursor']}", token=doctor)
    assert foreign.status_code == 400


def test_attachments_are_encrypted_and_read_back(api, space):
    patient_id, patient, doctor = space
    opened = _open(
        api,
        patient_id,
        doctor,
        attachments=[
            attachment(),
            attachment(
                filename="note.txt",
                media_type="text/plain",
                content_base64=base64.b64encode(b"Note: regime sans sel").decode(),
            ),
        ],
    )
    cid, mid = opened["conversation_id"], opened["message_id"]
    keys = _objects()
    assert len(keys) == 3 and all(patient_id not in k for k in keys)
    s3 = boto3.client("s3", region_name="eu-west-3")
    for key in keys:
        stored = s3.get_object(Bucket=settings().messages_bucket, Key=key)["Body"].read()
        assert (
            SECRET.encode() not in stored
            and b"metformine" not in stored
            and b"ordonnance.pdf" not in stored
            and b"sans sel" not in stored
        )
    (message,) = _messages(api, cid, patient)
    assert message["attachments"] == [
        {"index": 0, "filename": "ordonnance.pdf", "media_type": "application/pdf", "size": len(PDF)},
        {"index": 1, "filename": "note.txt", "media_type": "text/plain", "size": 21},
    ]
    content = api.get(f"/v1/conversations/{cid}/messages/{mid}/attachments/0", token=patient, headers={"Accept": "*/*"})
    assert content.status_code == 200 and content.body == PDF and content.headers["Content-Type"] == "application/pdf"
    assert api.get(f"/v1/conversations/{cid}/messages/{mid}/attachments/2", token=patient).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"content_base64": base64.b64encode(b"%PDF-" + b"x" * (4 * 1024 * 1024)).decode()}, 413, "payload_too_large"),
        ({"content_base64": base64.b64encode(b"MZ\x90\x00 not a pdf").decode()}, 415, "unsupported_media_type"),
        ({"media_type": "application/x-msdownload"}, 415, "unsupported_media_type"),
        ({"content_base64": "%%% not base64"}, 400, "invalid_request"),
        ({"filename": "../../etc/passwd"}, 400, "invalid_request"),
    ],
    ids=["too-large", "exe-as-pdf", "unknown-type", "bad-base64", "path-in-name"],
)
def test_bad_attachments_are_refused_and_nothing_is_written(api, space, overrides, status, code):
    patient_id, patient, doctor = space
    body = {
        "patient_id": patient_id,
        "subject": "Pièce",
        "body": "Voir pièce jointe",
        "attachments": [attachment(**overrides)],
    }
    response = api.post("/v1/conversations", body, token=doctor)
    assert (response.status_code, response.json_body["error"]["code"]) == (status, code)
    assert _objects() == [] and _inbox(api, patient) == []


def test_patient_cannot_open_a_conversation(api, space):
    patient_id, patient, _doctor = space
    response = api.post(
        "/v1/conversations", {"patient_id": patient_id, "subject": "Question", "body": "Bonjour"}, token=patient
    )
    assert response.status_code == 403
    assert "patient cannot open a conversation" in response.json_body["error"]["message"].lower()


def test_only_the_two_participants_see_it(api, space, enrolment, token):
    patient_id, _patient, doctor = space
    opened = _open(api, patient_id, doctor)
    cid, mid = opened["conversation_id"], opened["message_id"]
    _, other_patient = enrolment.active_patient(2)
    other_doctor = token("professional", rpps=rpps(2), profession="medecin", name="Dr B")
    for stranger in (other_patient, other_doctor):
        for method, path, body in (
            ("GET", f"/v1/conversations/{cid}/messages", None),
            ("POST", f"/v1/conversations/{cid}/messages", {"body": "Intrusion"}),
            ("GET", f"/v1/conversations/{cid}/messages/{mid}/attachments/0", None),
        ):
            response = api.call(method, path, body, token=stranger)
            assert response.status_code == 404, (method, path, response.json_body)
            assert SECRET not in response.body.decode()
        assert _inbox(api, stranger) == []
    insurer = token("insurer")
    assert api.get(f"/v1/conversations/{cid}/messages", token=insurer).status_code == 403
    assert api.get("/v1/conversations/conv_nope/messages", token=doctor).status_code == 404


def _block(api, patient_id, patient, rpps_):
    """Through PUT .../access/blocks/{rpps} when this build has it, else the block item itself."""
    from app import app

    if "/v1/patients/{patient_id}/access/blocks/{rpps}" in app.routes:
        response = api.put(f"/v1/patients/{patient_id}/access/blocks/{rpps_}", token=patient)
        assert response.status_code == 200, response.json_body
    else:
        boto3.resource("dynamodb", region_name="eu-west-3").Table(settings().table_name).put_item(
            Item={
                "pk": f"PAT#{patient_id}",
                "sk": f"SPACE#BLOCK#{rpps_}",
                "rpps": rpps_,
                "blocked_at": "2026-01-01T00:00:00Z",
            }
        )


def test_blocked_professional_is_stopped_at_once(api, space):
    patient_id, patient, doctor = space
    cid = _open(api, patient_id, doctor)["conversation_id"]
    _block(api, patient_id, patient, rpps(1))
    assert api.post(f"/v1/conversations/{cid}/messages", {"body": "Encore moi"}, token=doctor).status_code == 403
    assert api.get(f"/v1/conversations/{cid}/messages", token=doctor).status_code == 403
    again = api.post("/v1/conversations", {"patient_id": patient_id, "subject": "x", "body": "y"}, token=doctor)
    assert again.status_code == 403
    assert len(_objects()) == 1  # nothing stored for the refused ones
    assert api.get(f"/v1/conversations/{cid}/messages", token=patient).status_code == 200  # the patient still reads
    assert _inbox(api, doctor) == []  # not even the subject stays in the blocked professional's inbox
    assert [c["conversation_id"] for c in _inbox(api, patient)] == [cid]


def test_professional_inbox_follows_blocks_across_patients(api, space, enrolment):
    patient_id, patient, doctor = space
    other_id, _ = enrolment.active_patient(2)
    mine = _open(api, patient_id, doctor, subject="Pour vous")["conversation_id"]
    theirs = _open(api, other_id, doctor, subject="Pour l'autre")["conversation_id"]
    assert {c["conversation_id"]: c["subject"] for c in _inbox(api, doctor)} == {
        theirs: "Pour l'autre",
        mine: "Pour vous",
    }
    _block(api, patient_id, patient, rpps(1))
    assert [c["conversation_id"] for c in _inbox(api, doctor)] == [theirs]
    assert api.delete(f"/v1/patients/{patient_id}/access/blocks/{rpps(1)}", token=patient).status_code == 204
    assert {c["conversation_id"] for c in _inbox(api, doctor)} == {mine, theirs}


def test_subjects_are_stored_encrypted(api, space):
    patient_id, patient, doctor = space
    _open(api, patient_id, doctor, subject="Suspicion de diabète")
    stored = every_stored_item()
    assert any("subject_sealed" in item for item in stored)
    assert "Suspicion" not in repr(stored)  # binary attributes show their bytes there
    assert (
        [c["subject"] for c in _inbox(api, patient)]
        == [c["subject"] for c in _inbox(api, doctor)]
        == ["Suspicion de diabète"]
    )


def test_block_landing_during_the_send_stops_it(api, space, monkeypatch):
    from chalicelib.messaging.service import CONTENT

    patient_id, patient, doctor = space
    cid = _open(api, patient_id, doctor)["conversation_id"]
    real_store = CONTENT.store

    def store_then_blocked(*args, **kwargs):  # the patient blocks while the content uploads
        result = real_store(*args, **kwargs)
        outside_the_function = FUNCTION.set(None)  # the access module's write, not the messaging function's
        try:
            boto3.resource("dynamodb", region_name="eu-west-3").Table(settings().table_name).put_item(
                Item={
                    "pk": f"PAT#{patient_id}",
                    "sk": f"SPACE#BLOCK#{rpps(1)}",
                    "rpps": rpps(1),
                    "blocked_at": "2026-01-01T00:00:00Z",
                }
            )
        finally:
            FUNCTION.reset(outside_the_function)
        return result

    monkeypatch.setattr(CONTENT, "store", store_then_blocked)
    response = api.post(f"/v1/conversations/{cid}/messages", {"body": "Juste à temps ?"}, token=doctor)
    assert response.status_code == 403, response.json_body
    monkeypatch.undo()
    assert len(_objects()) == 1
    assert [m["body"] for m in _messages(api, cid, patient)] == [SECRET]


def test_closed_space_accepts_no_new_message(api, space):
    patient_id, patient, doctor = space
    cid = _open(api, patient_id, doctor)["conversation_id"]
    assert api.post("/v1/me/close", {}, token=patient).status_code == 200
    assert api.post(f"/v1/conversations/{cid}/messages", {"body": "Toujours là ?"}, token=doctor).status_code == 404
    assert api.post(f"/v1/conversations/{cid}/messages", {"body": "Moi aussi"}, token=patient).status_code == 403
    opened = api.post("/v1/conversations", {"patient_id": patient_id, "subject": "x", "body": "y"}, token=doctor)
    assert opened.status_code == 404
    assert _inbox(api, doctor) == []  # closing stops all professional access, inbox included


def test_notification_says_only_that_a_message_arrived(api, space, enrolment):
    from devstack.outbox import sent
    from tests.conftest import invitee

    patient_id, patient, doctor = space
    person = invitee(1)
    before = len(sent(to=person["email"]))
    cid = _open(api, patient_id, doctor, attachments=[attachment()])["conversation_id"]
    notes = sent(to=person["email"])[before:]
    assert len(notes) == 1
    (note,) = notes
    assert note["subject"] == "Vous avez un nouveau message sur Mon espace santé"
    text = note["subject"] + note["body"]
    for leak in (
        SECRET,
        "glycémie",
        "Vos résultats",
        "ordonnance",
        "Martin",
        person["ins"],
        person["family_name"],
        patient_id,
    ):
        assert leak not in text
    # the patient's reply: professionals have no email in our data, nothing is sent
    everything = len(sent())
    assert api.post(f"/v1/conversations/{cid}/messages", {"body": "Merci"}, token=patient).status_code == 201
    assert len(sent()) == everything
