"""Closure with immediate deletion removes what every module stored, and says so in the history."""

import base64

import boto3

from chalicelib.core.settings import settings
from devstack import workers
from tests.conftest import every_stored_item

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()


def test_delete_now_leaves_only_account_settings_and_history(api, enrolment, token):
    patient_id, patient = enrolment.active_patient()
    doctor = token("professional", rpps="10000000009", profession="medecin", name="Dr A")
    base = f"/v1/patients/{patient_id}"
    assert api.put(f"{base}/access/grants/10000000009", {}, token=patient).status_code == 200
    document = {
        "type": "other",
        "title": "Photo",
        "date": "2026-01-02",
        "media_type": "image/png",
        "content_base64": PNG,
    }
    assert api.post(f"{base}/documents", document, token=patient).status_code == 201
    opened = api.post(
        "/v1/conversations",
        {
            "patient_id": patient_id,
            "subject": "Résultats",
            "body": "Bonjour",
            "attachments": [{"filename": "a.png", "media_type": "image/png", "content_base64": PNG}],
        },
        token=doctor,
    )
    assert opened.status_code == 201, opened.json_body
    assert api.post(f"{base}/profile/allergies", {"substance": "pénicilline"}, token=patient).status_code == 201
    weight = {"kind": "weight", "value": 70.5, "unit": "kg", "measured_at": "2026-01-02T08:00:00Z"}
    assert api.post(f"{base}/profile/measurements", weight, token=patient).status_code == 201
    event = {"kind": "appointment", "title": "Dentiste", "start": "2030-01-02T08:00:00Z"}
    assert api.post(f"{base}/agenda", event, token=patient).status_code == 201

    assert api.post("/v1/me/close", {"delete_now": True}, token=patient).json_body == {"status": "closed"}
    assert workers.drain_purges() == 5  # one request, fanned out to each module holding data

    s3 = boto3.client("s3", region_name="eu-west-3")
    for bucket in (settings().documents_bucket, settings().messages_bucket):
        assert s3.list_object_versions(Bucket=bucket).get("Versions", []) == []
    left = {
        item["sk"].split("#")[0] + "#" + item["sk"].split("#")[1]
        if item["sk"].startswith("SPACE#")
        else item["sk"].split("#")[0]
        for item in every_stored_item()
        if item["pk"] == f"PAT#{patient_id}"
    }
    assert left == {
        "SPACE#ACCOUNT",
        "SPACE#ACTIVITY_HEAD",
        "SPACE#GRANT",
        "ACT",
    }  # the account, its history, its settings
    conversation = opened.json_body["conversation_id"]
    assert [item for item in every_stored_item() if item["pk"] == f"CONV#{conversation}"] == []
    history = [e["action"] for e in api.get(f"{base}/activity?limit=200", token=patient).json_body["items"]]
    purged = {
        e["resource"]
        for e in api.get(f"{base}/activity?limit=200", token=patient).json_body["items"]
        if e["action"] == "space.purged"
    }
    assert purged == {"profile: 3 items", "agenda: 2 items", "connections: 0 items"}
    assert {"conversation.deleted", "document.deleted"} <= set(history[:6])
    assert api.get(f"{base}/activity/verify", token=patient).json_body["valid"] is True
    assert api.get(f"{base}/documents", token=doctor).status_code == 404
