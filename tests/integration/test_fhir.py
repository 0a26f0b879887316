"""The FHIR interface for professional software (PDSm, IHE MHD ITI-65/67/68) on moto.

A third-party client (fhirpy) talks to the app served over loopback; every resource the server
gives back is validated with the fhir.resources R4B models."""

from __future__ import annotations

import base64
import threading
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.operationoutcome import OperationOutcome

from chalicelib.core.security.identifiers import rpps_check_digit
from chalicelib.core.settings import settings
from tests.conftest import invitee

INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
CONFIDENTIALITY = "urn:oid:1.2.250.1.213.1.1.4.13"
PDF = b"%PDF-1.7\nCompte rendu de consultation.\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
FHIR_JSON = {"Content-Type": "application/fhir+json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def rpps(n: int) -> str:
    first = f"{n:010d}"
    return first + rpps_check_digit(first)


def submitted(ins: str, *documents: dict) -> dict:
    """An ITI-65 transaction Bundle: a submission set List, then each DocumentReference and its Binary.
    A document: {code, system?, title, bytes, media_type, binary_type?, labels?, replaces?}."""
    references, binaries = [], []
    for document in documents:
        binary_url, reference_url = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
        reference: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {
                "coding": [
                    {"system": document.get("system", "http://loinc.org"), "code": document.get("code", "11488-4")}
                ]
            },
            "subject": {"identifier": {"system": INS_SYSTEM, "value": ins}},
            "date": "2026-03-03T10:00:00Z",
            "content": [
                {
                    "attachment": {
                        "contentType": document.get("media_type", "application/pdf"),
                        "url": binary_url,
                        "title": document.get("title", "Consultation"),
                        "creation": "2026-03-03",
                    }
                }
            ],
        }
        if document.get("labels"):
            reference["securityLabel"] = [
                {"coding": [{"system": CONFIDENTIALITY, "code": code}]} for code in document["labels"]
            ]
        if document.get("replaces"):
            reference["relatesTo"] = [
                {"code": "replaces", "target": {"reference": f"DocumentReference/{document['replaces']}"}}
            ]
        binary: dict[str, Any] = {
            "resourceType": "Binary",
            "contentType": document.get("binary_type", document.get("media_type", "application/pdf")),
            "data": base64.b64encode(document.get("bytes", PDF)).decode(),
        }
        references.append(
            {"fullUrl": reference_url, "resource": reference, "request": {"method": "POST", "url": "DocumentReference"}}
        )
        binaries.append({"fullUrl": binary_url, "resource": binary, "request": {"method": "POST", "url": "Binary"}})
    submission: dict[str, Any] = {
        "resourceType": "List",
        "status": "current",
        "mode": "working",
        "subject": {"identifier": {"system": INS_SYSTEM, "value": ins}},
        "entry": [{"item": {"reference": entry["fullUrl"]}} for entry in references],
    }
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": submission, "request": {"method": "POST", "url": "List"}}
    ]
    for reference, binary in zip(references, binaries, strict=True):
        entries += [reference, binary]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.fixture
def person(enrolment):
    patient_id, patient = enrolment.active_patient(1)
    return {"ins": invitee(1)["ins"], "patient_id": patient_id, "token": patient}


@pytest.fixture
def doctor(token):
    return token("professional", rpps=rpps(1), profession="medecin", name="Dr A")


def grant(api, person, n: int) -> None:
    assert (
        api.put(f"/v1/patients/{person['patient_id']}/access/grants/{rpps(n)}", {}, token=person["token"]).status_code
        == 200
    )


def provide(api, bundle: dict, who: str):
    return api.post("/v1/fhir", token=who, raw=json_bytes(bundle), headers=FHIR_JSON)


def json_bytes(value) -> bytes:
    import json

    return json.dumps(value).encode()


def search(api, who: str, **params):
    from urllib.parse import urlencode

    return api.get(f"/v1/fhir/DocumentReference?{urlencode(params)}", token=who)


def outcome(response) -> dict:
    assert response.headers["Content-Type"] == "application/fhir+json"
    OperationOutcome.model_validate(response.json_body)
    return response.json_body


def diagnostics(response) -> str:
    return " ".join(issue.get("diagnostics", "") for issue in outcome(response)["issue"])


def actions(api, person) -> list[str]:
    items = api.get(f"/v1/patients/{person['patient_id']}/activity?limit=200", token=person["token"]).json_body["items"]
    return [event["action"] for event in items]


def stored_objects() -> list[dict]:
    return (
        boto3.client("s3", region_name="eu-west-3")
        .list_object_versions(Bucket=settings().documents_bucket)
        .get("Versions", [])
    )


# --- a third-party client over loopback -------------------------------------------------------
@pytest.fixture
def served(cloud):
    """The app on a free loopback port (chalice's local server in a thread, moto in-process)."""
    from chalice.config import Config
    from chalice.local import LocalDevServer

    from app import app

    server = LocalDevServer(app, Config(chalice_stage="local"), "127.0.0.1", 0)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


def test_a_fhir_client_pushes_searches_reads_and_replaces(served, api, person, doctor):
    from fhirpy import SyncFHIRClient

    grant(api, person, 1)
    base = f"{served}/v1/fhir"
    client = SyncFHIRClient(base, authorization=f"Bearer {doctor}", extra_headers=FHIR_JSON)
    pushed = client.execute(
        base,
        method="post",
        data=submitted(
            person["ins"],
            {"title": "Consultation"},
            {"code": "11502-2", "title": "Bilan", "media_type": "text/plain", "bytes": b"Glycemie 0,9 g/L"},
        ),
    )
    Bundle.model_validate(pushed)
    assert pushed["type"] == "transaction-response" and len(pushed["entry"]) == 5
    assert all(entry["response"]["status"].startswith("201") for entry in pushed["entry"])
    locations = [entry["response"].get("location") for entry in pushed["entry"]]
    consultation, lab = locations[1].removeprefix("DocumentReference/"), locations[3].removeprefix("DocumentReference/")
    assert locations == [
        None,
        f"DocumentReference/{consultation}",
        f"Binary/{consultation}",
        f"DocumentReference/{lab}",
        f"Binary/{lab}",
    ]
    native = api.get(f"/v1/patients/{person['patient_id']}/documents/{consultation}", token=doctor).json_body
    assert (
        native["type"] == "consultation_report" and native["type_code"] == "11488-4"
    )  # the same id as the native API's

    found = (
        client.resources("DocumentReference")
        .search(patient=person["patient_id"], status="current", _count=1)
        .fetch_all()
    )
    assert sorted(reference.id for reference in found) == sorted(
        [consultation, lab]
    )  # two pages of one, through next links
    for reference in found:
        DocumentReference.model_validate(reference.serialize())
    page = client.execute("DocumentReference", method="get", params={"patient": person["patient_id"], "_count": 1})
    Bundle.model_validate(page)
    # no total beyond one page unless counted on purpose (docs/api.md § FHIR for partners)
    assert "total" not in page and [link["relation"] for link in page["link"]] == ["self", "next"]
    counted = {"patient": person["patient_id"], "_count": 1, "_total": "accurate"}
    assert client.execute("DocumentReference", method="get", params=counted)["total"] == 2
    assert person["ins"] not in str(page)

    lab_reference = client.reference("DocumentReference", lab).to_resource()
    DocumentReference.model_validate(lab_reference.serialize())
    assert lab_reference["type"]["coding"][0]["code"] == "11502-2"
    assert lab_reference["content"][0]["attachment"]["url"] == f"Binary/{lab}"
    content = requests.get(f"{base}/Binary/{lab}", headers={"Authorization": f"Bearer {doctor}"}, timeout=10)
    assert (
        content.status_code == 200
        and content.headers["Content-Type"] == "text/plain"
        and content.content == b"Glycemie 0,9 g/L"
    )

    replaced = client.execute(
        base,
        method="post",
        data=submitted(
            person["ins"],
            {
                "code": "11502-2",
                "title": "Bilan corrigé",
                "media_type": "text/plain",
                "bytes": b"Glycemie 1,0 g/L",
                "replaces": lab,
            },
        ),
    )
    newer = replaced["entry"][1]["response"]["location"].removeprefix("DocumentReference/")
    older = client.reference("DocumentReference", lab).to_resource()
    assert older["status"] == "superseded"
    DocumentReference.model_validate(older.serialize())
    newest = client.reference("DocumentReference", newer).to_resource().serialize()
    assert newest["relatesTo"] == [{"code": "replaces", "target": {"reference": f"DocumentReference/{lab}"}}]
    current = client.resources("DocumentReference").search(patient=person["patient_id"], status="current").fetch_all()
    assert sorted(reference.id for reference in current) == sorted([consultation, newer])

    metadata = requests.get(f"{base}/metadata", timeout=10)
    assert metadata.headers["Content-Type"] == "application/fhir+json"
    CapabilityStatement.model_validate(metadata.json())


# --- all or nothing ---------------------------------------------------------------------------
def test_a_bundle_with_one_bad_binary_stores_nothing(api, person, doctor):
    bundle = submitted(person["ins"], {"title": "Bon"}, {"title": "Mauvais", "bytes": PNG})  # declared PDF, is a PNG
    response = provide(api, bundle, doctor)
    assert response.status_code == 415
    assert "entry[3]" in diagnostics(response) and bundle["entry"][3]["fullUrl"] in diagnostics(response)
    assert stored_objects() == []
    grant(api, person, 1)
    assert api.get(f"/v1/patients/{person['patient_id']}/documents", token=doctor).json_body["items"] == []
    assert "document.created" not in actions(api, person)


def test_bad_entries_are_named_and_nothing_is_stored(api, person, doctor):
    unknown = provide(api, submitted(person["ins"], {}, {"code": "99999-9"}), doctor)
    assert unknown.status_code == 400 and "entry[3]" in diagnostics(unknown) and "11488-4" in diagnostics(unknown)
    masked = provide(api, submitted(person["ins"], {"labels": ["MASQUE_PS"]}), doctor)
    assert masked.status_code == 400 and "patient's choice" in diagnostics(masked)
    too_big = provide(api, submitted(person["ins"], {"bytes": b"%PDF-" + b"x" * (4 * 1024 * 1024)}), doctor)
    assert too_big.status_code == 413 and "entry[1]" in diagnostics(too_big)
    not_fhir = submitted(person["ins"], {})
    not_fhir["entry"][1]["resource"]["colour"] = "blue"
    invalid = provide(api, not_fhir, doctor)
    assert invalid.status_code == 400 and "entry[1].resource.colour" in diagnostics(invalid)
    unused = submitted(person["ins"], {})
    unused["entry"].append({**unused["entry"][2], "fullUrl": f"urn:uuid:{uuid.uuid4()}"})
    assert provide(api, unused, doctor).status_code == 400
    assert api.post("/v1/fhir", token=doctor, raw=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415
    assert stored_objects() == []


def _spaces_by_status(api, enrolment) -> dict[str, str]:
    """An INS per state of its space: unknown, invited, opposed, closed and open (the doctor
    rpps(1) granted access)."""
    unknown, invited, opposed, closed, open_ = (invitee(n) for n in range(20, 25))
    enrolment.invite(enrolment.campaign(), [invited, opposed, closed, open_])
    answer = {"ins": opposed["ins"], "birth_date": opposed["birth_date"], "code": enrolment.code_of(opposed)}
    assert api.post("/v1/enrolment/oppose", answer).json_body == {"status": "opposed"}
    enrolment.activate(closed)
    assert api.post("/v1/me/close", {}, token=enrolment.patient_token(closed)).json_body == {"status": "closed"}
    grant(api, {"patient_id": enrolment.activate(open_), "token": enrolment.patient_token(open_)}, 1)
    return {
        "unknown": unknown["ins"],
        "invited": invited["ins"],
        "opposed": opposed["ins"],
        "closed": closed["ins"],
        "open": open_["ins"],
    }


def test_a_space_not_open_answers_by_ins_as_an_unknown_one(api, enrolment, doctor):
    """ITI-65 and the search by patient.identifier: the same bytes for an unknown INS and for one
    whose space is invited, opposed or closed, so that an INS never tells what its person chose."""
    by_status = _spaces_by_status(api, enrolment)

    def search_by_ins(ins: str):
        return api.post(
            "/v1/fhir/DocumentReference/_search",
            token=doctor,
            raw=f"patient.identifier={INS_SYSTEM}|{ins}".encode(),
            headers=FORM,
        )

    for ask in (lambda ins: provide(api, submitted(ins, {}), doctor), search_by_ins):
        answers = {status: ask(ins) for status, ins in by_status.items()}
        unknown = answers.pop("unknown")
        assert unknown.status_code == 404 and outcome(unknown)["issue"][0]["code"] == "not-found"
        assert answers.pop("open").status_code == 200
        for status, answer in answers.items():
            assert (answer.status_code, answer.headers["Content-Type"], answer.body) == (
                unknown.status_code,
                unknown.headers["Content-Type"],
                unknown.body,
            ), status
    assert len(stored_objects()) == 1  # the open space's document only


def test_a_closed_space_answers_by_patient_id_as_an_unknown_one(api, person, doctor):
    """The paths naming a space by its patient_id, native and FHIR: once the space is closed, a
    professional who read it gets the bytes an unknown space gets, never "No such document."."""
    grant(api, person, 1)
    document_id = _deposit_two(api, person, doctor)[0]
    patient_id, unknown_id = person["patient_id"], "pat-" + "x" * 22

    def asks(space: str) -> list:
        return [
            api.get(f"/v1/patients/{space}/documents/{document_id}", token=doctor),
            api.get(f"/v1/patients/{space}/documents", token=doctor),
            search(api, doctor, patient=space),
        ]

    assert [answer.status_code for answer in asks(patient_id)] == [200, 200, 200]
    assert api.post("/v1/me/close", {}, token=person["token"]).status_code == 200
    for closed, unknown in zip(asks(patient_id), asks(unknown_id), strict=True):
        assert closed.status_code == 404
        assert (closed.status_code, closed.headers["Content-Type"], closed.body) == (
            unknown.status_code,
            unknown.headers["Content-Type"],
            unknown.body,
        )


# --- access -----------------------------------------------------------------------------------
def _deposit_two(api, person, doctor) -> list[str]:
    response = provide(api, submitted(person["ins"], {"title": "Un"}, {"title": "Deux", "code": "18748-4"}), doctor)
    assert response.status_code == 200, response.json_body
    return [
        entry["response"]["location"].removeprefix("DocumentReference/") for entry in response.json_body["entry"][1::2]
    ]


def test_masked_documents_are_not_found_nor_counted(api, person, doctor, token):
    documents = _deposit_two(api, person, doctor)
    other = token("professional", rpps=rpps(2), profession="medecin")
    grant(api, person, 2)
    for document_id in documents:
        patch = api.patch(
            f"/v1/patients/{person['patient_id']}/documents/{document_id}", {"masked": True}, token=person["token"]
        )
        assert patch.status_code == 200
    page = search(api, other, patient=person["patient_id"]).json_body
    Bundle.model_validate(page)
    assert page["total"] == 0 and page["entry"] == []
    assert (
        search(api, other, patient=person["patient_id"], _count=1).json_body.get("link", [])[-1]["relation"] == "self"
    )
    assert api.get(f"/v1/fhir/DocumentReference/{documents[0]}", token=other).status_code == 404
    assert api.get(f"/v1/fhir/Binary/{documents[0]}", token=other).status_code == 404
    api.patch(f"/v1/patients/{person['patient_id']}/documents/{documents[1]}", {"masked": False}, token=person["token"])
    page = search(api, other, patient=person["patient_id"], _count=1).json_body
    assert page["total"] == 1 and [entry["resource"]["id"] for entry in page["entry"]] == [documents[1]]
    assert all(link["relation"] != "next" for link in page["link"])  # the masked one leaves no trace
    grant(api, person, 1)
    author = search(api, doctor, patient=person["patient_id"]).json_body  # the author still sees both, marked
    labels = {entry["resource"]["id"]: entry["resource"].get("securityLabel") for entry in author["entry"]}
    assert labels[documents[0]] == [{"coding": [{"system": CONFIDENTIALITY, "code": "MASQUE_PS"}]}]


def test_a_professional_without_access_is_refused(api, person, doctor, token):
    _deposit_two(api, person, doctor)
    other = token("professional", rpps=rpps(2), profession="medecin")
    response = search(api, other, patient=person["patient_id"])
    assert response.status_code == 403 and outcome(response)["issue"][0]["code"] == "forbidden"


def test_a_blocked_professional_cannot_provide(api, person, doctor):
    assert (
        api.put(f"/v1/patients/{person['patient_id']}/access/blocks/{rpps(1)}", token=person["token"]).status_code
        == 200
    )
    response = provide(api, submitted(person["ins"], {}), doctor)
    assert response.status_code == 403 and "blocked" in diagnostics(response)
    assert stored_objects() == []


def test_invisible_and_hidden_labels(api, person, doctor):
    response = provide(api, submitted(person["ins"], {"labels": ["INVISIBLE_PATIENT"]}), doctor)
    document_id = response.json_body["entry"][1]["response"]["location"].removeprefix("DocumentReference/")
    assert (
        api.get(f"/v1/patients/{person['patient_id']}/documents/{document_id}", token=person["token"]).status_code
        == 404
    )
    grant(api, person, 1)
    reference = api.get(f"/v1/fhir/DocumentReference/{document_id}", token=doctor).json_body
    assert reference["securityLabel"] == [{"coding": [{"system": CONFIDENTIALITY, "code": "INVISIBLE_PATIENT"}]}]


def test_fhir_reads_are_in_the_history_like_native_ones(api, person, doctor):
    grant(api, person, 1)
    document_id = _deposit_two(api, person, doctor)[0]
    assert actions(api, person)[:3] == ["document.created", "document.created", "access.granted"]
    assert search(api, doctor, patient=person["patient_id"]).status_code == 200
    assert api.get(f"/v1/fhir/DocumentReference/{document_id}", token=doctor).status_code == 200
    assert api.get(f"/v1/fhir/Binary/{document_id}", token=doctor, headers={"Accept": "*/*"}).status_code == 200
    assert actions(api, person)[:3] == ["document.read", "document.read", "document.listed"]
    assert (
        api.get(f"/v1/patients/{person['patient_id']}/activity/verify", token=person["token"]).json_body["valid"]
        is True
    )


# --- searches ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "date", ["9999", "9999-12", "9999-12-31", "ge9999-12-31T23:59:59Z", "0001-01-01T00:03:00+01:00", "0999-05-01"]
)
def test_a_date_utc_cannot_hold_is_a_400_naming_it(api, person, doctor, date):
    """Found by fuzzing: the period of 9999 ends in the year 10000, and 00:03 at +01:00 on the first
    day of the year 1 is in the year 0 in UTC; both were a 500."""
    grant(api, person, 1)
    refused = search(api, doctor, patient=person["patient_id"], date=date)
    assert refused.status_code == 400 and "date: " in diagnostics(refused) and "9999" in diagnostics(refused)


def test_search_by_ins_only_in_a_form_body(api, person, doctor):
    grant(api, person, 1)
    _deposit_two(api, person, doctor)
    token_value = f"{INS_SYSTEM}|{person['ins']}"
    refused = search(api, doctor, **{"patient.identifier": token_value})
    assert refused.status_code == 400 and "URL" in diagnostics(refused)
    body = f"patient.identifier={token_value}&type=http://loinc.org|18748-4".encode()
    found = api.post("/v1/fhir/DocumentReference/_search", token=doctor, raw=body, headers=FORM).json_body
    Bundle.model_validate(found)
    assert found["total"] == 1 and found["entry"][0]["resource"]["type"]["coding"][0]["code"] == "18748-4"
    assert person["ins"] not in str(found)
    unknown = search(api, doctor, patient=person["patient_id"], type="12345-6")
    assert unknown.status_code == 400 and "11502-2" in diagnostics(unknown)
    assert search(api, doctor, patient=person["patient_id"], date="ge2020-01-01").json_body["total"] == 2
    assert search(api, doctor, patient=person["patient_id"], date="lt2020-01-01").json_body["total"] == 0
    assert search(api, doctor, patient=person["patient_id"], subject="x").status_code == 400
    first = search(api, doctor, patient=person["patient_id"], _count=1).json_body
    cursor = parse_qs(urlsplit(first["link"][-1]["url"]).query)["_cursor"][0]
    last = search(api, doctor, patient=person["patient_id"], _count=1, _cursor=cursor).json_body
    assert "total" not in last and len(last["entry"]) == 1 and "next" not in str(last["link"])
    counted = search(api, doctor, patient=person["patient_id"], _count=1, _cursor=cursor, _total="accurate")
    assert counted.json_body["total"] == 2
    foreign = search(api, doctor, patient=person["patient_id"], status="superseded", _cursor=cursor)  # other filters
    assert foreign.status_code == 400 and "cursor" in diagnostics(foreign)


def test_patient_search_by_ins(api, person, doctor, enrolment, token):
    body = f"identifier={INS_SYSTEM}|{person['ins']}".encode()
    found = api.post("/v1/fhir/Patient/_search", token=doctor, raw=body, headers=FORM)
    assert found.status_code == 200 and found.headers["Content-Type"] == "application/fhir+json"
    Bundle.model_validate(found.json_body)
    assert [entry["resource"]["id"] for entry in found.json_body["entry"]] == [person["patient_id"]]
    assert actions(api, person)[0] == "access.searched"  # the same history as POST /v1/patients/search
    invited = invitee(8)
    enrolment.invite(enrolment.campaign(), [invited])
    empty = api.post(
        "/v1/fhir/Patient/_search", token=doctor, raw=f"identifier={INS_SYSTEM}|{invited['ins']}".encode(), headers=FORM
    ).json_body
    assert empty["total"] == 0 and empty["entry"] == []
    bad = api.post(
        "/v1/fhir/Patient/_search", token=doctor, raw=f"identifier={INS_SYSTEM}|185057512345600".encode(), headers=FORM
    )
    assert bad.status_code == 400 and outcome(bad)["issue"][0]["details"]["text"] == "invalid_ins"
    assert api.post("/v1/fhir/Patient/_search", token=person["token"], raw=body, headers=FORM).status_code == 403
    assert (
        api.put(f"/v1/patients/{person['patient_id']}/access/blocks/{rpps(1)}", token=person["token"]).status_code
        == 200
    )
    assert api.post("/v1/fhir/Patient/_search", token=doctor, raw=body, headers=FORM).status_code == 403


def test_errors_are_operation_outcomes(api):
    response = api.get("/v1/fhir/DocumentReference?patient=x")
    assert response.status_code == 401 and outcome(response)["issue"][0]["code"] == "login"


@pytest.mark.parametrize("count", ["²", "٣", "-1", "1e3", "+5", "0", "201"])
def test_count_is_ascii_digits_within_its_bounds(api, person, doctor, count):
    grant(api, person, 1)
    response = search(api, doctor, patient=person["patient_id"], _count=count)
    assert response.status_code == 400 and outcome(response)["issue"][0]["details"]["text"] == "invalid_request"
    assert outcome(response)["issue"][1]["expression"] == ["_count"]
    form = f"patient={person['patient_id']}&_count={count}".encode()
    assert api.post("/v1/fhir/DocumentReference/_search", token=doctor, raw=form, headers=FORM).status_code == 400


def test_a_body_over_the_route_limit_is_an_operation_outcome(api, doctor):
    """A search form takes 64 KiB at most, a transaction Bundle 6 MiB (its documents): refused unread."""
    form = b"patient=x&type=" + b"1" * (64 * 1024)
    response = api.post("/v1/fhir/DocumentReference/_search", token=doctor, raw=form, headers=FORM)
    assert response.status_code == 413 and outcome(response)["issue"][0]["code"] == "too-long"
    response = provide(api, {"resourceType": "Bundle", "padding": "x" * (6 * 1024 * 1024)}, doctor)
    assert response.status_code == 413 and outcome(response)["issue"][0]["details"]["text"] == "payload_too_large"


# --- the native API's view of replacement -----------------------------------------------------
def test_native_replacement_supersedes_the_older_document(api, person, doctor, token):
    base = f"/v1/patients/{person['patient_id']}/documents"
    content = base64.b64encode(PDF).decode()
    first = {
        "type": "lab_result",
        "title": "Bilan",
        "date": "2026-03-03",
        "media_type": "application/pdf",
        "content_base64": content,
    }
    older = api.post(base, first, token=doctor).json_body
    assert older["status"] == "current" and older["replaced_by"] is None
    other = token("professional", rpps=rpps(2), profession="medecin")
    grant(api, person, 2)
    assert api.post(base, {**first, "replaces": older["document_id"]}, token=other).status_code == 403  # not its author
    newer = api.post(base, {**first, "title": "Bilan corrigé", "replaces": older["document_id"]}, token=doctor)
    assert newer.status_code == 201 and newer.json_body["replaces"] == older["document_id"]
    again = api.post(base, {**first, "replaces": older["document_id"]}, token=doctor)
    assert again.status_code == 409
    listed = api.get(base, token=person["token"]).json_body["items"]
    assert [document["document_id"] for document in listed] == [newer.json_body["document_id"]]
    superseded = api.get(f"{base}?status=superseded", token=person["token"]).json_body["items"]
    assert [(d["document_id"], d["status"], d["replaced_by"]) for d in superseded] == [
        (older["document_id"], "superseded", newer.json_body["document_id"])
    ]
    assert "document.superseded" in actions(api, person)


def test_a_replacement_the_reader_may_not_see_leaves_no_trace_in_fhir(api, person, doctor, token):
    """A professional without the right to see one side of a replacement (masked by the patient):
    the older document is current for them and no relatesTo names the one they may not see."""
    base = f"/v1/patients/{person['patient_id']}/documents"
    lab = {"code": "11502-2", "media_type": "text/plain", "bytes": b"Glycemie 1,2 g/L"}

    def push(title: str, replaces: str | None = None) -> str:
        response = provide(
            api,
            submitted(person["ins"], {**lab, "title": title, **({"replaces": replaces} if replaces else {})}),
            doctor,
        )
        assert response.status_code == 200, response.json_body
        return response.json_body["entry"][1]["response"]["location"].split("/")[1]

    def mask(document_id: str) -> None:
        assert api.patch(f"{base}/{document_id}", {"masked": True}, token=person["token"]).status_code == 200

    kept = push("Bilan")
    mask(masked_newer := push("Bilan corrigé", replaces=kept))
    mask(masked_older := push("Bilan initial"))
    newer = push("Bilan initial corrigé", replaces=masked_older)
    colleague = token("professional", rpps=rpps(2), profession="medecin")
    grant(api, person, 2)
    found = search(api, colleague, patient=person["patient_id"]).json_body
    Bundle.model_validate(found)
    resources = {entry["resource"]["id"]: entry["resource"] for entry in found["entry"]}
    assert found["total"] == 2 and set(resources) == {kept, newer}
    assert resources[kept]["status"] == "current" and "relatesTo" not in resources[newer]
    assert masked_newer not in str(found) and masked_older not in str(found)
    assert search(api, colleague, patient=person["patient_id"], status="superseded").json_body["total"] == 0
    assert search(api, colleague, patient=person["patient_id"], status="current").json_body["total"] == 2
    assert api.get(f"/v1/fhir/DocumentReference/{kept}", token=colleague).json_body["status"] == "current"
    native = api.get(f"{base}/{newer}", token=colleague).json_body
    assert native["replaces"] is None
    # their author sees both sides
    grant(api, person, 1)
    assert search(api, doctor, patient=person["patient_id"], status="superseded").json_body["total"] == 2
    assert (
        api.get(f"/v1/fhir/DocumentReference/{newer}", token=doctor).json_body["relatesTo"][0]["target"]["reference"]
        == f"DocumentReference/{masked_older}"
    )
