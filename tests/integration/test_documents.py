"""Documents through the API on moto: encryption really goes through KMS and S3."""

from __future__ import annotations

import base64
from datetime import timedelta

import boto3
import pytest

from chalicelib.core import clock
from chalicelib.core.security.identifiers import rpps_check_digit
from chalicelib.core.settings import settings
from devstack import workers

PDF = b"%PDF-1.7\n" + b"Compte rendu: tension 12/8, pas d'anomalie.\n" * 20 + b"%%EOF"
PLAINTEXT_MARK = b"tension 12/8"


def rpps(n: int) -> str:
    first = f"{n:010d}"
    return first + rpps_check_digit(first)


def document(**overrides) -> dict:
    return {
        "type": "consultation_report",
        "title": "Consultation du 3 mars",
        "date": "2026-03-03",
        "media_type": "application/pdf",
        "content_base64": base64.b64encode(PDF).decode(),
        **overrides,
    }


@pytest.fixture
def space(enrolment, token):
    patient_id, patient = enrolment.active_patient()
    doctor = token("professional", rpps=rpps(1), profession="medecin", name="Dr A")
    return patient_id, patient, doctor


def _deposit(api, patient_id, who, **overrides):
    response = api.post(f"/v1/patients/{patient_id}/documents", document(**overrides), token=who)
    assert response.status_code == 201, response.json_body
    return response.json_body


def _s3():
    return boto3.client("s3", region_name="eu-west-3")


def _objects() -> list[dict]:
    versions = _s3().list_object_versions(Bucket=settings().documents_bucket)
    return versions.get("Versions", [])


def test_deposit_is_encrypted_and_reads_back(api, space):
    patient_id, patient, doctor = space
    meta = _deposit(api, patient_id, doctor)
    assert meta["author"] == {"role": "professional", "id": rpps(1)}
    assert meta["size"] == len(PDF) and not meta["masked"] and not meta["invisible_to_patient"]
    (stored,) = _objects()
    assert patient_id not in stored["Key"] and stored["Key"].endswith(meta["document_id"])
    ciphertext = _s3().get_object(Bucket=settings().documents_bucket, Key=stored["Key"])["Body"].read()
    assert PLAINTEXT_MARK not in ciphertext and PDF not in ciphertext
    content = api.get(
        f"/v1/patients/{patient_id}/documents/{meta['document_id']}/content", token=patient, headers={"Accept": "*/*"}
    )
    assert content.status_code == 200 and content.body == PDF
    assert content.headers["Content-Type"] == "application/pdf"
    listed = api.get(f"/v1/patients/{patient_id}/documents", token=patient).json_body
    assert [d["document_id"] for d in listed["items"]] == [meta["document_id"]]
    history = [e["action"] for e in api.get(f"/v1/patients/{patient_id}/activity", token=patient).json_body["items"]]
    assert history[:3] == ["document.listed", "document.read", "document.created"]


def test_ciphertext_moved_under_another_document_does_not_open(api, space, enrolment, token):
    patient_id, _patient, doctor = space
    other_id, other = enrolment.active_patient(2)
    mine = _deposit(api, patient_id, doctor)
    theirs = _deposit(api, other_id, doctor, content_base64=base64.b64encode(b"%PDF-other").decode())
    bucket = settings().documents_bucket
    _s3().copy_object(
        Bucket=bucket,
        Key=f"documents/{theirs['document_id']}",
        CopySource={"Bucket": bucket, "Key": f"documents/{mine['document_id']}"},
    )
    response = api.get(
        f"/v1/patients/{other_id}/documents/{theirs['document_id']}/content", token=other, headers={"Accept": "*/*"}
    )
    assert response.status_code == 500 and response.json_body["error"]["code"] == "integrity_error"
    assert PLAINTEXT_MARK not in response.body


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"content_base64": base64.b64encode(b"%PDF-" + b"x" * (4 * 1024 * 1024)).decode()}, 413, "payload_too_large"),
        ({"media_type": "image/png"}, 415, "unsupported_media_type"),
        ({"content_base64": base64.b64encode(b"MZ\x90\x00 not a pdf").decode()}, 415, "unsupported_media_type"),
        ({"content_base64": "%%% not base64"}, 400, "invalid_request"),
        ({"type": "horoscope"}, 400, "invalid_request"),
        ({"date": "2999-01-01"}, 400, "invalid_request"),
    ],
    ids=["too-large", "png-declared", "exe-as-pdf", "bad-base64", "unknown-type", "future-date"],
)
def test_bad_content_is_refused_and_nothing_is_written(api, space, overrides, status, code):
    patient_id, _patient, doctor = space
    response = api.post(f"/v1/patients/{patient_id}/documents", document(**overrides), token=doctor)
    assert (response.status_code, response.json_body["error"]["code"]) == (status, code)
    if overrides.get("type") == "horoscope":
        assert "prescription" in response.json_body["error"]["details"][0]["message"]
    assert _objects() == []


def test_todays_date_in_paris_is_accepted_while_utc_is_still_yesterday(api, space):
    """At 00:30 in Paris (22:30 UTC) a person deposits a document dated today: the day after UTC's."""
    patient_id, patient, _ = space
    paris_today = (clock.now() + timedelta(days=1)).date().isoformat()
    assert _deposit(api, patient_id, patient, date=paris_today)["date"] == paris_today


def test_failure_between_content_and_metadata_leaves_nothing_once_swept(api, space, monkeypatch):
    """An unknown failure may have come after the commit: the content waits for the sweeper, which
    deletes it since its metadata was never written (tests/integration/test_lost_answers.py)."""
    from chalicelib.core.history import journal
    from chalicelib.documents.service import CONTENT

    patient_id, patient, doctor = space

    def broken(*args, **kwargs):
        raise RuntimeError("DynamoDB unavailable")

    monkeypatch.setattr(journal, "commit_events", broken)
    assert api.post(f"/v1/patients/{patient_id}/documents", document(), token=doctor).status_code == 500
    monkeypatch.undo()
    assert api.get(f"/v1/patients/{patient_id}/documents", token=patient).json_body["items"] == []
    assert CONTENT.sweep(clock.now() + timedelta(hours=1)) == 1
    assert _objects() == []


def test_crash_between_content_and_metadata_is_swept(api, space, monkeypatch):
    from chalicelib.core.history import journal
    from chalicelib.documents.service import CONTENT

    patient_id, _patient, doctor = space

    class Crash(BaseException):
        """The Lambda dies: no except clause runs."""

    def crash(*args, **kwargs):
        raise Crash()

    monkeypatch.setattr(journal, "commit_events", crash)
    with pytest.raises(Crash):
        api.post(f"/v1/patients/{patient_id}/documents", document(), token=doctor)
    monkeypatch.undo()
    assert len(_objects()) == 1
    assert CONTENT.sweep(clock.now()) == 0  # too recent: an upload may still be finishing
    assert CONTENT.sweep(clock.now() + timedelta(hours=1)) == 1
    assert _objects() == []


def test_professional_reads_only_with_access(api, space, token):
    patient_id, patient, doctor = space
    meta = _deposit(api, patient_id, doctor)
    other = token("professional", rpps=rpps(2), profession="medecin")
    doc = f"/v1/patients/{patient_id}/documents/{meta['document_id']}"
    assert api.get(doc, token=other).status_code == 403
    assert api.get(f"/v1/patients/{patient_id}/documents", token=other).status_code == 403
    assert api.put(f"/v1/patients/{patient_id}/access/grants/{rpps(2)}", {}, token=patient).status_code == 200
    assert api.get(doc, token=other).status_code == 200
    podiatrist = token("professional", rpps=rpps(3), profession="pedicure_podologue")
    api.put(f"/v1/patients/{patient_id}/access/grants/{rpps(3)}", {}, token=patient)
    hospital = _deposit(api, patient_id, doctor, type="hospital_report")
    _deposit(api, patient_id, doctor, type="prescription")
    assert (
        api.get(f"/v1/patients/{patient_id}/documents/{hospital['document_id']}", token=podiatrist).status_code == 404
    )
    listed = api.get(f"/v1/patients/{patient_id}/documents", token=podiatrist).json_body["items"]
    assert [d["type"] for d in listed] == ["prescription"]  # the matrix: no reports for a podiatrist


def test_expired_grant_is_denied(api, space, token, app_clock):
    patient_id, patient, doctor = space
    meta = _deposit(api, patient_id, doctor)
    other = token("professional", rpps=rpps(2), profession="medecin")
    soon = clock.iso(clock.now() + timedelta(seconds=2))
    assert (
        api.put(f"/v1/patients/{patient_id}/access/grants/{rpps(2)}", {"expires_at": soon}, token=patient).status_code
        == 200
    )
    assert api.get(f"/v1/patients/{patient_id}/documents/{meta['document_id']}", token=other).status_code == 200
    app_clock.advance(seconds=3)
    assert api.get(f"/v1/patients/{patient_id}/documents/{meta['document_id']}", token=other).status_code == 403


def test_masked_documents_stay_visible_to_author_and_treating_doctor(api, space, token):
    patient_id, patient, doctor = space
    meta = _deposit(api, patient_id, doctor)
    doc = f"/v1/patients/{patient_id}/documents/{meta['document_id']}"
    colleague = token("professional", rpps=rpps(2), profession="medecin")
    treating = token("professional", rpps=rpps(4), profession="medecin")
    api.put(f"/v1/patients/{patient_id}/access/grants/{rpps(2)}", {}, token=patient)
    api.put(f"/v1/patients/{patient_id}/access/treating-doctor", {"rpps": rpps(4)}, token=patient)
    assert api.patch(doc, {"masked": True}, token=doctor).status_code == 403  # masking is the patient's
    assert api.patch(doc, {"masked": True}, token=patient).json_body["masked"] is True
    assert api.get(doc, token=colleague).status_code == 404
    assert api.get(doc, token=doctor).status_code == 200
    assert api.get(doc, token=treating).status_code == 200
    assert api.patch(doc, {"masked": False}, token=patient).status_code == 200
    assert api.get(doc, token=colleague).status_code == 200


def test_invisible_document_released_by_author_or_after_30_days(api, space):
    from chalicelib.documents import service

    patient_id, patient, doctor = space
    first = _deposit(api, patient_id, doctor, invisible_to_patient=True)
    second = _deposit(api, patient_id, doctor, invisible_to_patient=True)
    assert api.get(f"/v1/patients/{patient_id}/documents/{first['document_id']}", token=patient).status_code == 404
    assert api.get(f"/v1/patients/{patient_id}/documents", token=patient).json_body["items"] == []
    assert (
        api.post(f"/v1/patients/{patient_id}/documents", document(invisible_to_patient=True), token=patient).status_code
        == 403
    )
    released = api.patch(
        f"/v1/patients/{patient_id}/documents/{first['document_id']}", {"invisible_to_patient": False}, token=doctor
    )
    assert released.status_code == 200 and released.json_body["invisible_to_patient"] is False
    assert api.get(f"/v1/patients/{patient_id}/documents/{first['document_id']}", token=patient).status_code == 200
    assert service.release_due(clock.now() + timedelta(days=29)) == 0
    assert service.release_due(clock.now() + timedelta(days=30, minutes=1)) == 1
    assert service.release_due(clock.now() + timedelta(days=31)) == 0  # a second run changes nothing
    assert api.get(f"/v1/patients/{patient_id}/documents/{second['document_id']}", token=patient).status_code == 200
    history = api.get(f"/v1/patients/{patient_id}/activity", token=patient).json_body["items"]
    releases = [e for e in history if e["action"] == "document.released"]
    assert [e["actor"]["role"] for e in releases] == ["system", "professional"]


def _activity(api, patient_id, patient) -> list[dict]:
    return api.get(f"/v1/patients/{patient_id}/activity?limit=200", token=patient).json_body["items"]


@pytest.mark.parametrize(
    "change", [{"masked": True, "invisible_to_patient": False}, {"masked": True, "hidden_from_representatives": False}]
)
def test_a_patch_refused_in_part_writes_nothing(api, space, change):
    """Masking is the patient's, releasing and disclosing the author's: asking both is refused as
    a whole, the mask is not applied on the way."""
    patient_id, patient, doctor = space
    meta = _deposit(api, patient_id, doctor)
    doc = f"/v1/patients/{patient_id}/documents/{meta['document_id']}"
    before = _activity(api, patient_id, patient)
    assert api.patch(doc, change, token=patient).status_code == 403
    assert _activity(api, patient_id, patient) == before
    assert api.get(doc, token=patient).json_body == meta


def test_an_authors_release_with_a_refused_change_stays_invisible(api, space):
    patient_id, patient, doctor = space
    meta = _deposit(api, patient_id, doctor, invisible_to_patient=True)
    doc = f"/v1/patients/{patient_id}/documents/{meta['document_id']}"
    before = _activity(api, patient_id, patient)
    refused = api.patch(doc, {"invisible_to_patient": False, "hidden_from_representatives": True}, token=doctor)
    assert refused.status_code == 409
    assert _activity(api, patient_id, patient) == before
    assert api.get(doc, token=patient).status_code == 404
    assert api.get(doc, token=doctor).json_body["invisible_to_patient"] is True


def test_delete_by_patient_removes_every_version(api, space):
    patient_id, patient, doctor = space
    meta = _deposit(api, patient_id, doctor)
    assert api.delete(f"/v1/patients/{patient_id}/documents/{meta['document_id']}", token=patient).status_code == 204
    assert _objects() == []
    assert api.get(f"/v1/patients/{patient_id}/documents/{meta['document_id']}", token=patient).status_code == 404
    history = [e["action"] for e in api.get(f"/v1/patients/{patient_id}/activity", token=patient).json_body["items"]]
    assert history[0] == "document.deleted"


def test_closure_cuts_access_and_delete_now_purges(api, space):
    patient_id, patient, doctor = space
    meta = _deposit(api, patient_id, doctor)
    _deposit(
        api,
        patient_id,
        patient,
        type="other",
        media_type="text/plain",
        content_base64=base64.b64encode(b"Photo du compte rendu").decode(),
    )
    assert api.get(f"/v1/patients/{patient_id}/documents/{meta['document_id']}", token=doctor).status_code == 200
    assert api.post("/v1/me/close", {"delete_now": True}, token=patient).status_code == 200
    assert api.get(f"/v1/patients/{patient_id}/documents/{meta['document_id']}", token=doctor).status_code == 404
    workers.drain_purges()  # the documents function deletes them, as its purge queue delivers the request
    assert api.post(f"/v1/patients/{patient_id}/documents", document(), token=doctor).status_code == 404
    assert _objects() == []
    history = [e["action"] for e in api.get(f"/v1/patients/{patient_id}/activity", token=patient).json_body["items"]]
    assert history.count("document.deleted") == 2 and "account.closed" in history
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=patient).json_body["valid"] is True


def test_insurer_and_agent_never_reach_documents(api, space, token):
    patient_id, _patient, doctor = space
    meta = _deposit(api, patient_id, doctor)
    for role in ("insurer", "mutual_insurer", "employer", "enrolment_agent", "catalogue_admin"):
        assert (
            api.get(f"/v1/patients/{patient_id}/documents/{meta['document_id']}/content", token=token(role)).status_code
            == 403
        )


def test_a_cursor_dynamodb_refuses_is_the_callers_400(api, space, monkeypatch):
    """DynamoDB answers ValidationException for a start key outside the query's range (moto does
    not check; a range can move under a list's own cursor): 400, not 500."""
    from botocore.exceptions import ClientError

    from chalicelib.core.data import aws, layout

    patient_id, patient, doctor = space
    for _ in range(2):
        _deposit(api, patient_id, doctor)
    cursor = api.get(f"/v1/patients/{patient_id}/documents?limit=1", token=patient).json_body["next_cursor"]
    table = aws.table(layout.DOCUMENTS_TABLE)
    real_query = table.query

    def refusing_start_keys(**query):
        if "ExclusiveStartKey" in query:
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "outside query boundaries"}}, "Query"
            )
        return real_query(**query)

    monkeypatch.setattr(table, "query", refusing_start_keys)
    response = api.get(f"/v1/patients/{patient_id}/documents?cursor={cursor}", token=patient)
    assert response.status_code == 400, response.json_body
    assert response.json_body["error"]["details"] == [{"field": "cursor", "message": "Unknown or foreign cursor."}]


def whole_history(api, patient_id, reader) -> list[dict]:
    """A reader's whole history in pages of one: each page full (a filtered-out event leaves no
    short page), as many events as verify counts."""
    events, cursor = [], None
    while True:
        page = api.get(
            f"/v1/patients/{patient_id}/activity?limit=1" + (f"&cursor={cursor}" if cursor else ""), token=reader
        ).json_body
        assert len(page["items"]) == 1
        events += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=reader).json_body == {
        "valid": True,
        "events": len(events),
        "signed": False,
    }
    return events


def test_a_replacement_invisible_to_the_patient_leaves_no_trace_until_released(api, space):
    patient_id, patient, doctor = space
    base = f"/v1/patients/{patient_id}/documents"
    older = _deposit(api, patient_id, doctor, title="Bilan")
    newer = _deposit(
        api, patient_id, doctor, title="Bilan corrigé", invisible_to_patient=True, replaces=older["document_id"]
    )
    # for the patient, the older one is current and nothing names the newer
    seen = api.get(f"{base}/{older['document_id']}", token=patient).json_body
    assert (seen["status"], seen["replaced_by"]) == ("current", None)
    assert [d["document_id"] for d in api.get(base, token=patient).json_body["items"]] == [older["document_id"]]
    assert api.get(f"{base}?status=superseded", token=patient).json_body == {"items": [], "next_cursor": None}
    events = whole_history(api, patient_id, patient)
    assert newer["document_id"] not in str(events) and "document.superseded" not in {e["action"] for e in events}
    assert newer["document_id"] not in str(api.get(f"/v1/patients/{patient_id}/export", token=patient).json_body)
    # its author explains and releases it: now the patient sees the replacement, and its events
    assert api.patch(f"{base}/{newer['document_id']}", {"invisible_to_patient": False}, token=doctor).status_code == 200
    seen = api.get(f"{base}/{older['document_id']}", token=patient).json_body
    assert (seen["status"], seen["replaced_by"]) == ("superseded", newer["document_id"])
    assert [d["document_id"] for d in api.get(f"{base}?status=superseded", token=patient).json_body["items"]] == [
        older["document_id"]
    ]
    actions = {(e["action"], e.get("resource")) for e in whole_history(api, patient_id, patient)}
    assert {
        ("document.created", newer["document_id"]),
        ("document.superseded", older["document_id"]),
        ("document.released", newer["document_id"]),
    } <= actions


def test_the_patients_history_shows_an_invisible_documents_events_once_released(api, space):
    patient_id, patient, doctor = space
    base = f"/v1/patients/{patient_id}/documents"
    explained = _deposit(api, patient_id, doctor, title="Annonce", invisible_to_patient=True)
    later = _deposit(api, patient_id, doctor, title="Résultat", invisible_to_patient=True)
    withdrawn = _deposit(api, patient_id, doctor, title="Retiré", invisible_to_patient=True)
    for document_id in (explained["document_id"], withdrawn["document_id"]):
        assert api.get(f"{base}/{document_id}", token=doctor).status_code == 200
    assert api.delete(f"{base}/{withdrawn['document_id']}", token=doctor).status_code == 204  # before it was ever shown
    invisible = {explained["document_id"], later["document_id"], withdrawn["document_id"]}
    assert not invisible & {e.get("resource") for e in whole_history(api, patient_id, patient)}
    assert (
        api.patch(f"{base}/{explained['document_id']}", {"invisible_to_patient": False}, token=doctor).status_code
        == 200
    )
    events = {(e["action"], e.get("resource")) for e in whole_history(api, patient_id, patient)}
    assert {
        (action, explained["document_id"]) for action in ("document.created", "document.read", "document.released")
    } <= events
    assert not {later["document_id"], withdrawn["document_id"]} & {resource for _, resource in events}
    # 30 days on, the one never released shows too; the one deleted unseen never does
    from chalicelib.documents import service

    assert service.release_due(clock.now() + timedelta(days=30, minutes=1)) == 1
    events = {(e["action"], e.get("resource")) for e in whole_history(api, patient_id, patient)}
    assert ("document.created", later["document_id"]) in events
    assert withdrawn["document_id"] not in {resource for _, resource in events}
