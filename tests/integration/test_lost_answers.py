"""A write whose answer is lost (issue 22, item 7), by fault injection on moto: DynamoDB commits
the transaction, then botocore raises ReadTimeoutError. The caller gets an error in the contract's
shape; what was committed keeps its content, and the hourly sweeper deletes only content whose
owner was never written."""

from __future__ import annotations

import base64
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.core import clock
from chalicelib.core.settings import settings
from tests.integration.test_documents import PDF, document, rpps

ANY = {"Accept": "*/*"}


@pytest.fixture
def space(enrolment, token):
    patient_id, patient = enrolment.active_patient()
    doctor = token("professional", rpps=rpps(1), profession="medecin", name="Dr A")
    return patient_id, patient, doctor


@pytest.fixture
def transactions(monkeypatch):
    """Replaces DynamoDB's TransactWriteItems with ``fault(real call, request)``."""
    from chalicelib.core.data import aws

    client = aws.table().meta.client
    real = client.transact_write_items

    def inject(fault) -> None:
        monkeypatch.setattr(client, "transact_write_items", lambda **request: fault(real, request))

    yield inject
    monkeypatch.undo()


def committed_then_timed_out(real, request):
    real(**request)
    raise ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-3.amazonaws.com/")


def never_reached(real, request):
    raise ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-3.amazonaws.com/")


def refused(real, request):
    """DynamoDB cancels the transaction: the last item (the deposit's own write) lost its condition."""
    reasons = [{"Code": "None"}] * (len(request["TransactItems"]) - 1) + [{"Code": "ConditionalCheckFailed"}]
    raise ClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}, "CancellationReasons": reasons},
        "TransactWriteItems",
    )


def objects(bucket: str) -> list[str]:
    versions = boto3.client("s3", region_name="eu-west-3").list_object_versions(Bucket=bucket)
    return [version["Key"] for version in versions.get("Versions", [])]


def run_hourly(module: str, monkeypatch) -> None:
    """The module's scheduled function, an hour from now (markers are swept 15 minutes on)."""
    import importlib

    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(hours=1))
    importlib.import_module(f"chalicelib.{module}.events").scheduled_work()
    monkeypatch.setattr(clock, "now", real)


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.json_body
    assert set(response.json_body) == {"error"} and response.json_body["error"]["code"] == "service_unavailable"
    assert "Traceback" not in response.body.decode() and "ReadTimeout" not in response.body.decode()


def test_a_deposit_committed_before_its_answer_was_lost_keeps_its_content(api, space, transactions, monkeypatch):
    patient_id, patient, doctor = space
    transactions(committed_then_timed_out)
    assert_unavailable(api.post(f"/v1/patients/{patient_id}/documents", document(), token=doctor))
    transactions(lambda real, request: real(**request))
    (listed,) = api.get(f"/v1/patients/{patient_id}/documents", token=patient).json_body["items"]
    path = f"/v1/patients/{patient_id}/documents/{listed['document_id']}/content"
    assert api.get(path, token=patient, headers=ANY).body == PDF
    run_hourly("documents", monkeypatch)
    assert len(objects(settings().documents_bucket)) == 1
    content = api.get(path, token=patient, headers=ANY)
    assert content.status_code == 200 and content.body == PDF


def test_a_deposit_never_written_is_swept_and_a_refused_one_cleaned_at_once(api, space, transactions, monkeypatch):
    patient_id, patient, doctor = space
    transactions(never_reached)
    assert_unavailable(api.post(f"/v1/patients/{patient_id}/documents", document(), token=doctor))
    assert len(objects(settings().documents_bucket)) == 1  # the outcome is unknown here: the sweeper decides
    transactions(refused)
    assert api.post(f"/v1/patients/{patient_id}/documents", document(), token=doctor).status_code == 409
    assert len(objects(settings().documents_bucket)) == 1  # nothing written: its content went at once
    transactions(lambda real, request: real(**request))
    assert api.get(f"/v1/patients/{patient_id}/documents", token=patient).json_body["items"] == []
    run_hourly("documents", monkeypatch)
    assert objects(settings().documents_bucket) == []


def _open(api, patient_id, doctor) -> str:
    body = {"patient_id": patient_id, "subject": "Résultats", "body": "Bonjour"}
    response = api.post("/v1/conversations", body, token=doctor)
    assert response.status_code == 201, response.json_body
    return response.json_body["conversation_id"]


def _with_attachment(text: str) -> dict:
    pdf = {
        "filename": "ordonnance.pdf",
        "media_type": "application/pdf",
        "content_base64": base64.b64encode(PDF).decode(),
    }
    return {"body": text, "attachments": [pdf]}


def test_a_message_committed_before_its_answer_was_lost_keeps_its_content(api, space, transactions, monkeypatch):
    patient_id, patient, doctor = space
    conversation = _open(api, patient_id, doctor)
    transactions(committed_then_timed_out)
    assert_unavailable(
        api.post(f"/v1/conversations/{conversation}/messages", _with_attachment("Voici l'ordonnance"), token=doctor)
    )
    transactions(never_reached)
    assert_unavailable(
        api.post(f"/v1/conversations/{conversation}/messages", _with_attachment("Jamais écrit"), token=doctor)
    )
    transactions(lambda real, request: real(**request))
    assert len(objects(settings().messages_bucket)) == 5  # the first message, then body + attachment twice
    run_hourly("messaging", monkeypatch)
    assert len(objects(settings().messages_bucket)) == 3  # the one never written is gone
    messages = api.get(f"/v1/conversations/{conversation}/messages", token=patient).json_body["items"]
    assert [m["body"] for m in messages] == ["Bonjour", "Voici l'ordonnance"]
    attachment = api.get(
        f"/v1/conversations/{conversation}/messages/{messages[1]['message_id']}/attachments/0",
        token=patient,
        headers=ANY,
    )
    assert attachment.status_code == 200 and attachment.body == PDF
