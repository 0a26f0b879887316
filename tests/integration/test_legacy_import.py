"""Legacy DMP import for real: archives in the import bucket, a migration started through the API,
the state machine executing in moto (its Distributed Map lists the bucket and queues batches with
task tokens), the import queue drained as the Lambda event source would (devstack/workers.py),
and the documents read back through the native API."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from chalicelib.core.data import layout
from chalicelib.core.settings import settings
from devstack import workers
from tests.conftest import invitee
from tests.integration.test_fhir import FHIR_JSON, submitted
from tests.xdm_factory import BILLION_LAUGHS, CDA, PDF, Doc, archive, bomb, rpps

AUTHOR_A, AUTHOR_B, READER = rpps(11), rpps(12), rpps(13)


def _s3():
    return boto3.client("s3", region_name="eu-west-3")


def put_archives(archives: dict[str, bytes]) -> None:
    for key, data in archives.items():
        _s3().put_object(Bucket=settings().import_bucket, Key=key, Body=data)


def start(api, operator: str, prefix: str) -> str:
    response = api.post("/v1/migrations", {"prefix": prefix}, token=operator)
    assert response.status_code == 202, response.json_body
    assert response.json_body["status"] == "running" and response.json_body["prefix"] == prefix
    return response.json_body["migration_id"]


def run(api, operator: str, prefix: str, timeout: float = 240) -> dict:
    """Starts a migration and delivers what its execution queues until it is no longer running."""
    migration_id = start(api, operator, prefix)
    deadline = time.monotonic() + timeout
    while True:
        workers.drain_imports()
        progress = api.get(f"/v1/migrations/{migration_id}", token=operator).json_body
        if progress["status"] != "running":
            return progress
        assert time.monotonic() < deadline, f"the migration did not finish: {progress}"
        time.sleep(0.05)


def rejects(api, operator: str, migration_id: str) -> dict[str, str]:
    items, cursor = [], None
    while True:
        page = api.get(
            f"/v1/migrations/{migration_id}/rejects?limit=7" + (f"&cursor={cursor}" if cursor else ""), token=operator
        ).json_body
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return {item["archive"]: item["error"]["code"] for item in items}


def open_spaces(enrolment, first: int, count: int) -> list[tuple[dict, str]]:
    """(person, patient_id) of ``count`` activated spaces."""
    people = [invitee(first + n) for n in range(count)]
    campaign = enrolment.campaign()
    for start_at in range(0, count, 500):
        enrolment.invite(campaign, people[start_at : start_at + 500])
    return [(person, enrolment.activate(person)) for person in people]


@pytest.fixture
def operator(token) -> str:
    return token("migration_operator")


def _documents(api, patient_id: str, token: str) -> list[dict]:
    response = api.get(f"/v1/patients/{patient_id}/documents?limit=200", token=token)
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]


def _history(api, patient_id: str, token: str) -> list[dict]:
    return api.get(f"/v1/patients/{patient_id}/activity?limit=200", token=token).json_body["items"]


@pytest.mark.volume
def test_a_national_prefix_runs_to_done_and_a_second_migration_imports_nothing_twice(api, enrolment, operator):
    spaces = open_spaces(enrolment, 100, 200)
    codes = [(), ("MASQUE_PS",), ("INVISIBLE_PATIENT",), ("INVISIBLE_REPRESENTANTS_LEGAUX",)]
    archives = {
        f"dmp/2026/{n:04d}.zip": archive(
            person["ins"], [Doc(confidentiality=codes[(n + d) % 4]) for d in range(n % 3 + 1)]
        )
        for n, (person, _) in enumerate(spaces)
    }
    hostile = {
        "dmp/2026/bad-hash.zip": archive(spaces[0][0]["ins"], [Doc(sha1="0" * 40)]),
        "dmp/2026/bad-dtd.zip": archive(spaces[1][0]["ins"], [Doc()], metadata_xml=BILLION_LAUGHS),
        "dmp/2026/no-space.zip": archive(invitee(9999)["ins"], [Doc()]),
    }
    put_archives({**archives, **hostile, "elsewhere/0001.zip": archives["dmp/2026/0000.zip"]})
    documents = sum(n % 3 + 1 for n in range(200))

    first = run(api, operator, "dmp/2026/")

    assert first["status"] == "done" and first["finished_at"]
    assert first["counts"] == {"archives": 203, "imported": 200, "duplicates": 0, "rejected": 3, "documents": documents}
    assert rejects(api, operator, first["migration_id"]) == {
        "dmp/2026/bad-hash.zip": "hash_mismatch",
        "dmp/2026/bad-dtd.zip": "unsafe_xml",
        "dmp/2026/no-space.zip": "space_not_open",
    }
    person, patient_id = spaces[5]
    patient = enrolment.patient_token(person)
    imported = [e for e in _history(api, patient_id, patient) if e["action"] == "document.imported"]
    # its three documents: the INVISIBLE_PATIENT one enters the patient's history once released
    assert len(imported) == 2 and {e["actor"]["id"] for e in imported} == {first["migration_id"]}

    second = run(api, operator, "dmp/2026/")

    assert second["status"] == "done"
    assert second["counts"] == {"archives": 203, "imported": 0, "duplicates": 200, "rejected": 3, "documents": 0}
    assert len([e for e in _history(api, patient_id, patient) if e["action"] == "document.imported"]) == len(imported)
    stored = _s3().list_objects_v2(Bucket=settings().documents_bucket)["KeyCount"]
    assert stored == documents, "each document stored once, under an opaque key"


def test_imported_documents_keep_author_date_type_and_confidentiality(api, enrolment, operator, token):
    ((person, patient_id),) = open_spaces(enrolment, 500, 1)
    docs = [
        Doc(author=AUTHOR_A, title="Consultation", type_code="11488-4", creation_time="20160420101500"),
        Doc(
            author=AUTHOR_A,
            title="Biologie",
            type_code="11502-2",
            content=CDA,
            media_type="text/xml",
            confidentiality=("MASQUE_PS",),
        ),
        Doc(author=AUTHOR_B, title="Annonce", type_code="34112-3", confidentiality=("INVISIBLE_PATIENT",)),
        Doc(
            author=AUTHOR_A,
            title="Contraception",
            type_code="11488-4",
            confidentiality=("INVISIBLE_REPRESENTANTS_LEGAUX",),
        ),
    ]
    put_archives({"one/record.zip": archive(person["ins"], docs)})
    progress = run(api, operator, "one/")
    assert progress["counts"] == {"archives": 1, "imported": 1, "duplicates": 0, "rejected": 0, "documents": 4}

    patient = enrolment.patient_token(person)
    seen = {d["title"]: d for d in _documents(api, patient_id, patient)}
    assert set(seen) == {"Consultation", "Biologie", "Contraception"}, "invisible to the patient until released"
    consultation = seen["Consultation"]
    assert consultation["author"] == {"role": "professional", "id": AUTHOR_A}
    assert (consultation["date"], consultation["type"], consultation["media_type"]) == (
        "2016-04-20",
        "consultation_report",
        "application/pdf",
    )
    assert seen["Biologie"]["masked"] and seen["Biologie"]["type"] == "lab_result"
    assert (
        seen["Contraception"]["hidden_from_representatives"] and not seen["Consultation"]["hidden_from_representatives"]
    )
    assert (consultation["type_code"], consultation["status"]) == ("11488-4", "current"), (
        "the archive's LOINC code kept"
    )
    events = api.get(f"/v1/patients/{patient_id}/activity?limit=50", token=patient).json_body["items"]
    imported = {e["resource"]: e["actor"] for e in events if e["action"] == "document.imported"}
    assert {d["document_id"] for d in seen.values()} <= set(imported), "one document.imported event per document"
    assert all(actor == {"role": "migration", "id": progress["migration_id"]} for actor in imported.values())
    content = api.get(
        f"/v1/patients/{patient_id}/documents/{consultation['document_id']}/content",
        token=patient,
        headers={"Accept": "*/*"},
    )
    assert content.status_code == 200 and content.body == PDF and content.headers["Content-Type"] == "application/pdf"
    cda = api.get(
        f"/v1/patients/{patient_id}/documents/{seen['Biologie']['document_id']}/content",
        token=patient,
        headers={"Accept": "*/*"},
    )
    assert cda.status_code == 200 and cda.body == CDA and cda.headers["Content-Type"] == "text/xml"

    # Authors have author rights on what they wrote (even masked), without a grant.
    author_a = token("professional", rpps=AUTHOR_A, profession="medecin")
    author_b = token("professional", rpps=AUTHOR_B, profession="medecin")
    masked = api.get(
        f"/v1/patients/{patient_id}/documents/{seen['Biologie']['document_id']}/content",
        token=author_a,
        headers={"Accept": "*/*"},
    )
    assert masked.status_code == 200 and masked.body == CDA
    assert api.get(f"/v1/patients/{patient_id}/documents", token=author_a).status_code == 403, "listing needs a grant"
    # The patient grants A: A lists everything but sees the masked document only as its author.
    assert api.put(f"/v1/patients/{patient_id}/access/grants/{AUTHOR_A}", {}, token=patient).status_code == 200
    assert api.put(f"/v1/patients/{patient_id}/access/grants/{READER}", {}, token=patient).status_code == 200
    listed_by_a = {d["title"] for d in _documents(api, patient_id, author_a)}
    assert listed_by_a == {"Consultation", "Biologie", "Annonce", "Contraception"}
    reader = token("professional", rpps=READER, profession="medecin")
    assert {d["title"] for d in _documents(api, patient_id, reader)} == {"Consultation", "Annonce", "Contraception"}
    assert (
        api.get(f"/v1/patients/{patient_id}/documents/{seen['Biologie']['document_id']}", token=reader).status_code
        == 404
    )
    # B, author of the document still invisible to the patient, reads it and may release it.
    invisible = next(d for d in _documents(api, patient_id, author_a) if d["title"] == "Annonce")
    assert invisible["invisible_to_patient"] and invisible["author"] == {"role": "professional", "id": AUTHOR_B}
    assert api.get(f"/v1/patients/{patient_id}/documents/{invisible['document_id']}", token=patient).status_code == 404
    assert (
        api.get(
            f"/v1/patients/{patient_id}/documents/{invisible['document_id']}/content",
            token=author_b,
            headers={"Accept": "*/*"},
        ).status_code
        == 200
    )
    released = api.patch(
        f"/v1/patients/{patient_id}/documents/{invisible['document_id']}",
        {"invisible_to_patient": False},
        token=author_b,
    )
    assert released.status_code == 200
    assert "Annonce" in {d["title"] for d in _documents(api, patient_id, patient)}

    history = _history(api, patient_id, patient)
    imports = [e for e in history if e["action"] == "document.imported"]
    assert len(imports) == 4
    assert all(e["actor"] == {"role": "migration", "id": progress["migration_id"]} for e in imports)
    assert {e["resource"] for e in imports} == {d["document_id"] for d in _documents(api, patient_id, author_a)}
    assert api.get(f"/v1/patients/{patient_id}/activity/verify", token=patient).json_body["valid"] is True


def test_imported_documents_read_back_through_the_fhir_interface(api, enrolment, operator, token):
    """What PDSm software sees of an import: the same documents, authors and labels, the same
    decisions (masked: its author only; invisible to the patient: professionals with a grant)."""
    ((person, patient_id),) = open_spaces(enrolment, 600, 1)
    docs = [
        Doc(author=AUTHOR_A, title="Consultation", type_code="11488-4", creation_time="20160420101500"),
        Doc(
            author=AUTHOR_A,
            title="Biologie",
            type_code="11502-2",
            content=CDA,
            media_type="text/xml",
            confidentiality=("MASQUE_PS",),
        ),
        Doc(author=AUTHOR_B, title="Annonce", type_code="34112-3", confidentiality=("INVISIBLE_PATIENT",)),
    ]
    put_archives({"fhir/record.zip": archive(person["ins"], docs)})
    assert run(api, operator, "fhir/")["counts"]["documents"] == 3
    patient = enrolment.patient_token(person)
    author_a = token("professional", rpps=AUTHOR_A, profession="medecin")
    author_b = token("professional", rpps=AUTHOR_B, profession="medecin")
    reader = token("professional", rpps=READER, profession="medecin")

    # B has no grant: its own document only, by id, as the native API answers it.
    assert api.get(f"/v1/fhir/DocumentReference?patient={patient_id}", token=author_b).status_code == 403
    for professional in (AUTHOR_A, READER):
        assert api.put(f"/v1/patients/{patient_id}/access/grants/{professional}", {}, token=patient).status_code == 200

    def found(who: str) -> dict[str, dict]:
        response = api.get(f"/v1/fhir/DocumentReference?patient={patient_id}", token=who)
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/fhir+json"
        bundle = response.json_body
        assert bundle["total"] == len(bundle["entry"])
        return {entry["resource"]["description"]: entry["resource"] for entry in bundle["entry"]}

    by_a = found(author_a)
    assert set(by_a) == {"Consultation", "Biologie", "Annonce"}
    consultation = by_a["Consultation"]
    assert consultation["type"]["coding"][0]["code"] == "11488-4"
    assert consultation["content"][0]["attachment"]["creation"] == "2016-04-20"
    assert consultation["author"] == [{"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": f"8{AUTHOR_A}"}}]
    assert "securityLabel" not in consultation
    labels = {name: {c["coding"][0]["code"] for c in r.get("securityLabel", [])} for name, r in by_a.items()}
    assert labels["Biologie"] == {"MASQUE_PS"} and labels["Annonce"] == {"INVISIBLE_PATIENT"}
    assert set(found(reader)) == {"Consultation", "Annonce"}, "the masked document: its author only"

    biologie, annonce = by_a["Biologie"]["id"], by_a["Annonce"]["id"]
    binary = api.get(f"/v1/fhir/Binary/{biologie}", token=author_a, headers={"Accept": "*/*"})
    assert binary.status_code == 200 and binary.body == CDA
    assert api.get(f"/v1/fhir/Binary/{biologie}", token=reader, headers={"Accept": "*/*"}).status_code == 404
    assert api.get(f"/v1/fhir/DocumentReference/{annonce}", token=author_b).status_code == 200
    assert api.get(f"/v1/patients/{patient_id}/documents/{annonce}", token=patient).status_code == 404, (
        "invisible to the patient"
    )
    assert {d["title"] for d in _documents(api, patient_id, patient)} == {"Consultation", "Biologie"}


def test_imported_documents_keep_their_unique_id_as_master_identifier(api, enrolment, operator, token):
    """The XDS uniqueId, natively as the DMP wrote it, and in FHIR (read, search, export) as the
    DocumentReference's masterIdentifier: an OID as its urn:oid, an OID^extension kept whole."""
    from fhir.resources.R4B.documentreference import DocumentReference

    ((person, patient_id),) = open_spaces(enrolment, 650, 1)
    unique_ids = {"Consultation": "1.2.250.1.999.3.41", "Biologie": "1.2.250.1.999.3^BIO-42"}
    put_archives(
        {
            "master/record.zip": archive(
                person["ins"], [Doc(author=AUTHOR_A, title=title, unique_id=uid) for title, uid in unique_ids.items()]
            )
        }
    )
    assert run(api, operator, "master/")["counts"]["documents"] == 2
    patient = enrolment.patient_token(person)
    native = {d["title"]: d for d in _documents(api, patient_id, patient)}
    assert {title: d["master_identifier"] for title, d in native.items()} == unique_ids
    one = native["Consultation"]["document_id"]
    assert (
        api.get(f"/v1/patients/{patient_id}/documents/{one}", token=patient).json_body["master_identifier"]
        == unique_ids["Consultation"]
    )
    expected = {title: {"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{uid}"} for title, uid in unique_ids.items()}

    assert api.put(f"/v1/patients/{patient_id}/access/grants/{AUTHOR_A}", {}, token=patient).status_code == 200
    author = token("professional", rpps=AUTHOR_A, profession="medecin")
    read = api.get(f"/v1/fhir/DocumentReference/{one}", token=author).json_body
    DocumentReference.model_validate(read)
    assert read["masterIdentifier"] == expected["Consultation"]
    found = api.get(f"/v1/fhir/DocumentReference?patient={patient_id}", token=author).json_body["entry"]
    assert {entry["resource"]["description"]: entry["resource"]["masterIdentifier"] for entry in found} == expected
    exported = api.get(f"/v1/patients/{patient_id}/export", token=patient).json_body["entry"]
    references = [entry["resource"] for entry in exported if entry["resource"]["resourceType"] == "DocumentReference"]
    assert {resource["description"]: resource["masterIdentifier"] for resource in references} == expected

    # one identifier per space, whichever way it came: searchable, and an ITI-65 of it is a duplicate
    value = expected["Biologie"]["value"]
    by_identifier = api.get(f"/v1/fhir/DocumentReference?patient={patient_id}&identifier={value}", token=author)
    assert [entry["resource"]["description"] for entry in by_identifier.json_body["entry"]] == ["Biologie"]
    bundle = submitted(person["ins"], {"title": "Biologie, encore"})
    bundle["entry"][1]["resource"]["masterIdentifier"] = expected["Biologie"]
    again = api.post("/v1/fhir", token=author, raw=json.dumps(bundle).encode(), headers=FHIR_JSON)
    assert again.status_code == 409 and "duplicate" in [issue["code"] for issue in again.json_body["issue"]]
    assert len(_documents(api, patient_id, patient)) == 2


def test_hostile_archives_are_rejected_and_nothing_of_them_is_stored(api, enrolment, operator):
    ((person, patient_id),) = open_spaces(enrolment, 600, 1)
    ins = person["ins"]
    hostile = {
        "bad/bomb.zip": (bomb(ins), "unreadable_archive"),
        "bad/dotdot.zip": (archive(ins, [Doc()], extra={"../../evil.sh": b"#!/bin/sh"}), "unsafe_path"),
        "bad/absolute.zip": (archive(ins, [Doc()], extra={"/etc/passwd": b"root"}), "unsafe_path"),
        "bad/dtd.zip": (archive(ins, [Doc()], metadata_xml=BILLION_LAUGHS), "unsafe_xml"),
        "bad/missing.zip": (archive(ins, [Doc(), Doc()], skip={"DOC0002.PDF"}), "missing_document"),
        "bad/hash.zip": (archive(ins, [Doc(), Doc(sha1="a" * 40)]), "hash_mismatch"),
        "bad/size.zip": (archive(ins, [Doc(size=1)]), "size_mismatch"),
        "bad/type.zip": (archive(ins, [Doc(), Doc(type_code="99999-9")]), "unknown_type_code"),
        "bad/big.zip": (archive(ins, [Doc(content=b"%PDF-" + b"1" * (4 * 1024 * 1024))]), "payload_too_large"),
        "bad/bytes.zip": (archive(ins, [Doc(), Doc(content=b"MZ\x90\x00 an executable")]), "unsupported_media_type"),
        "bad/xml.zip": (
            archive(ins, [Doc(content=b"<ClinicalDocument><unclosed>", media_type="text/xml")]),
            "unsupported_media_type",
        ),
        "bad/media.zip": (archive(ins, [Doc(media_type="application/x-msdownload")]), "unsupported_media_type"),
        "bad/junk.zip": (b"not a zip at all", "unreadable_archive"),
    }
    put_archives({key: data for key, (data, _) in hostile.items()})

    progress = run(api, operator, "bad/")

    assert progress["counts"] == {
        "archives": len(hostile),
        "imported": 0,
        "duplicates": 0,
        "rejected": len(hostile),
        "documents": 0,
    }
    assert rejects(api, operator, progress["migration_id"]) == {key: code for key, (_, code) in hostile.items()}
    listed = api.get(f"/v1/migrations/{progress['migration_id']}/rejects", token=operator).json_body["items"]
    assert all(item["error"]["message"] and person["ins"] not in item["error"]["message"] for item in listed)
    patient = enrolment.patient_token(person)
    assert _documents(api, patient_id, patient) == []
    assert not [e for e in _history(api, patient_id, patient) if e["action"] == "document.imported"]
    assert _s3().list_objects_v2(Bucket=settings().documents_bucket)["KeyCount"] == 0


def test_a_closed_or_opposed_space_rejects_its_archive(api, enrolment, operator):
    (closed, _closed_id), (kept, _) = open_spaces(enrolment, 700, 2)
    assert api.post("/v1/me/close", {}, token=enrolment.patient_token(closed)).status_code == 200
    put_archives({"mixed/closed.zip": archive(closed["ins"], [Doc()]), "mixed/open.zip": archive(kept["ins"], [Doc()])})
    progress = run(api, operator, "mixed/")
    assert progress["counts"] == {"archives": 2, "imported": 1, "duplicates": 0, "rejected": 1, "documents": 1}
    assert rejects(api, operator, progress["migration_id"]) == {"mixed/closed.zip": "space_not_open"}


def test_operators_start_and_follow_migrations_and_nobody_else_does(api, enrolment, operator, token):
    ((person, patient_id),) = open_spaces(enrolment, 800, 1)
    assert api.get("/v1/migrations/source", token=operator).json_body == {"bucket": settings().import_bucket}
    doctor = token("professional", rpps=READER, profession="medecin")
    for caller in (enrolment.patient_token(person), doctor, enrolment.agent, token("insurer")):
        assert api.post("/v1/migrations", {"prefix": "x/"}, token=caller).status_code == 403
        assert api.get("/v1/migrations/source", token=caller).status_code == 403
    # An operator never reaches health data.
    assert api.get(f"/v1/patients/{patient_id}/documents", token=operator).status_code == 403
    nothing = api.post("/v1/migrations", {"prefix": "nothing-here/"}, token=operator)
    assert nothing.status_code == 400 and nothing.json_body["error"]["details"][0]["field"] == "prefix"
    for bad in ({}, {"prefix": ""}, {"prefix": "/abs"}, {"prefix": "a\nb"}, {"prefix": "x/", "extra": 1}):
        response = api.post("/v1/migrations", bad, token=operator)
        assert response.status_code == 400 and response.json_body["error"]["code"] == "invalid_request"
    assert api.get("/v1/migrations/mig_unknown", token=operator).status_code == 404
    assert api.get("/v1/migrations/mig_unknown/rejects", token=operator).status_code == 404
    put_archives({"p/one.zip": archive(person["ins"], [Doc()])})
    migration_id = start(api, operator, "p/")
    foreign = api.get(f"/v1/migrations/{migration_id}/rejects?cursor=eyJwayI6IlBBVCN4In0", token=operator)
    assert foreign.status_code == 400


def test_a_batch_delivered_again_counts_nothing_twice(api, enrolment, operator):
    from chalicelib.documents import events

    spaces = open_spaces(enrolment, 900, 3)
    keys = [f"again/{n}.zip" for n in range(3)]
    put_archives({key: archive(person["ins"], [Doc(), Doc()]) for key, (person, _) in zip(keys, spaces, strict=True)})
    progress = run(api, operator, "again/")
    # SQS delivers at least once: the same batch again, its task token already answered.
    events.import_batch({"migration_id": progress["migration_id"], "archives": keys, "task_token": "spent-token"})
    again = api.get(f"/v1/migrations/{progress['migration_id']}", token=operator).json_body
    assert (
        again["counts"]
        == progress["counts"]
        == {"archives": 3, "imported": 3, "duplicates": 0, "rejected": 0, "documents": 6}
    )
    person, patient_id = spaces[0]
    assert len(_documents(api, patient_id, enrolment.patient_token(person))) == 2


def test_an_archive_is_written_whole_even_across_transactions_and_failures(api, enrolment, operator, monkeypatch):
    """An archive larger than one transaction: a failure in the middle leaves the content it had
    stored to the sweeper (the outcome of an unknown failure is not known), and the retry
    finishes the archive, counting it and its documents once."""
    from datetime import timedelta

    from chalicelib.core import clock
    from chalicelib.core.history import journal
    from chalicelib.documents import legacy
    from chalicelib.documents.service import CONTENT

    ((person, patient_id),) = open_spaces(enrolment, 1000, 1)
    docs = [Doc(content=PDF + str(n).encode(), title=f"Document {n}") for n in range(legacy.TRANSACTION_DOCUMENTS + 6)]
    put_archives({"big/record.zip": archive(person["ins"], docs)})
    migration_id = start(api, operator, "big/")
    commit_events, calls = journal.commit_events, []

    def failing_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("DynamoDB is down")
        return commit_events(*args, **kwargs)

    monkeypatch.setattr(journal, "commit_events", failing_second)
    with pytest.raises(RuntimeError):
        legacy.import_archive(migration_id, "big/record.zip")
    patient = enrolment.patient_token(person)
    assert len(_documents(api, patient_id, patient)) == legacy.TRANSACTION_DOCUMENTS, "the first transaction, whole"
    failed = len(docs) - legacy.TRANSACTION_DOCUMENTS
    assert CONTENT.sweep(clock.now() + timedelta(hours=1)) == failed, (
        "the failed transaction's content swept: never owned"
    )
    stored = _s3().list_objects_v2(Bucket=settings().documents_bucket)["KeyCount"]
    assert stored == legacy.TRANSACTION_DOCUMENTS

    assert legacy.import_archive(migration_id, "big/record.zip") == "imported"
    assert legacy.import_archive(migration_id, "big/record.zip") is None, "counted once"
    assert len(_documents(api, patient_id, patient)) == len(docs)
    progress = api.get(f"/v1/migrations/{migration_id}", token=operator).json_body
    while progress["status"] == "running":  # the state machine's own batch finds it counted
        workers.drain_imports()
        progress = api.get(f"/v1/migrations/{migration_id}", token=operator).json_body
    assert progress["counts"] == {"archives": 1, "imported": 1, "duplicates": 0, "rejected": 0, "documents": len(docs)}


def test_closure_with_immediate_deletion_removes_imported_documents_and_their_markers(api, enrolment, operator):
    ((person, patient_id),) = open_spaces(enrolment, 1100, 1)
    put_archives({"gone/record.zip": archive(person["ins"], [Doc(), Doc()])})
    assert run(api, operator, "gone/")["counts"]["documents"] == 2
    table = boto3.resource("dynamodb", region_name="eu-west-3").Table(settings().module_table(layout.DOCUMENTS_TABLE))

    def legacy_markers() -> list[dict]:
        query = table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :legacy)",
            ExpressionAttributeValues={":pk": layout.patient(patient_id), ":legacy": layout.LEGACY_PREFIX},
        )
        return query["Items"]

    assert len(legacy_markers()) == 2
    assert api.post("/v1/me/close", {"delete_now": True}, token=enrolment.patient_token(person)).status_code == 200
    workers.drain_purges()
    assert legacy_markers() == []
    assert _s3().list_objects_v2(Bucket=settings().documents_bucket)["KeyCount"] == 0
