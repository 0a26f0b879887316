"""DocumentReference.masterIdentifier (docs/api.md § FHIR for partners): kept from ITI-65, unique in a
space (409 ``duplicate``, nothing stored, whoever races), searchable with ``identifier=``."""

from __future__ import annotations

import uuid

import pytest

from chalicelib.core.policy import gate
from chalicelib.core.security.auth import verify
from chalicelib.documents import interface as documents
from chalicelib.fhir import service as fhir
from tests.integration import test_fhir as fhir_tests
from tests.integration.test_fhir import FORM, grant, outcome, provide, search, stored_objects, submitted

person, doctor = fhir_tests.person, fhir_tests.doctor  # the FHIR tests' fixtures, here too
URI = "urn:ietf:rfc:3986"


def with_master(bundle: dict, *values: str | None, system: str | None = URI) -> dict:
    """The bundle's DocumentReferences, in order, given these masterIdentifiers."""
    references = [
        entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == "DocumentReference"
    ]
    for reference, value in zip(references, values, strict=True):
        if value is not None:
            reference["masterIdentifier"] = {**({"system": system} if system else {}), "value": value}
    return bundle


def issue_codes(response) -> list[str]:
    return [issue["code"] for issue in outcome(response)["issue"]]


def ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle["entry"]]


def test_kept_unique_and_searchable(api, person, doctor):
    grant(api, person, 1)
    oid = "urn:oid:1.2.250.1.999.1.42"
    first = provide(api, with_master(submitted(person["ins"], {"title": "Un"}), oid), doctor)
    assert first.status_code == 200, first.json_body
    document_id = first.json_body["entry"][1]["response"]["location"].split("/")[1]
    read = api.get(f"/v1/fhir/DocumentReference/{document_id}", token=doctor).json_body
    assert read["masterIdentifier"] == {"system": URI, "value": oid}

    objects = len(stored_objects())
    again = provide(api, with_master(submitted(person["ins"], {"title": "Deux"}), oid), doctor)
    assert again.status_code == 409 and "duplicate" in issue_codes(again)
    assert len(stored_objects()) == objects  # nothing stored: no content, no metadata
    every = search(api, doctor, patient=person["patient_id"], _total="accurate").json_body
    assert every["total"] == 1

    for token_value in (f"{URI}|{oid}", oid, f"|{oid}"):
        found = search(api, doctor, patient=person["patient_id"], identifier=token_value).json_body
        assert ids(found) == [document_id] and found["total"] == 1
    body = f"patient.identifier={fhir_tests.INS_SYSTEM}|{person['ins']}&identifier={URI}|{oid}".encode()
    posted = api.post("/v1/fhir/DocumentReference/_search", token=doctor, raw=body, headers=FORM).json_body
    assert ids(posted) == [document_id]
    other_type = search(api, doctor, patient=person["patient_id"], identifier=oid, type="18748-4").json_body
    assert other_type["entry"] == [] and other_type["total"] == 0
    unknown = search(api, doctor, patient=person["patient_id"], identifier="urn:oid:1.2.3").json_body
    assert unknown["entry"] == [] and unknown["total"] == 0
    wrong_system = search(api, doctor, patient=person["patient_id"], identifier=f"http://x|{oid}")
    assert wrong_system.status_code == 400


def test_a_uuid_and_refused_spellings(api, person, doctor):
    grant(api, person, 1)
    value = f"urn:uuid:{uuid.uuid4()}"
    deposited = provide(api, with_master(submitted(person["ins"], {}), value), doctor)
    assert deposited.status_code == 200
    found = search(api, doctor, patient=person["patient_id"], identifier=value).json_body
    assert found["entry"][0]["resource"]["masterIdentifier"] == {"system": URI, "value": value}
    for bad, system in (("1.2.3", URI), ("urn:oid:1.2.3", "http://example.org"), ("urn:uuid:NOT-A-UUID", URI)):
        refused = provide(api, with_master(submitted(person["ins"], {}), bad, system=system), doctor)
        assert refused.status_code == 400
        expressions = [issue.get("expression") for issue in outcome(refused)["issue"]]
        assert any(expression and "masterIdentifier" in expression[0] for expression in expressions)


def test_the_same_identifier_twice_in_a_bundle_stores_nothing(api, person, doctor):
    grant(api, person, 1)
    objects = len(stored_objects())
    twice = provide(
        api, with_master(submitted(person["ins"], {}, {"title": "B"}), "urn:oid:1.2.9", "urn:oid:1.2.9"), doctor
    )
    assert twice.status_code == 409 and "duplicate" in issue_codes(twice)
    assert len(stored_objects()) == objects


def test_two_deposits_racing_with_one_identifier_store_one(api, person, doctor, token):
    """Both pass the check before either writes: the marker in the write's transaction decides."""
    grant(api, person, 1)
    bundles = [with_master(submitted(person["ins"], {"title": t}), "urn:oid:1.2.77") for t in ("A", "B")]
    principal = verify(doctor)
    checked = []
    for bundle in bundles:
        ins, (submission,) = fhir.submitted_documents(bundle)
        items = gate.open_space_by_ins(ins)
        checked.append(documents.check_deposit(principal, items, submission.request, submission.master_identifier))
    documents.deposit_all([checked[0]])
    objects = len(stored_objects())
    with pytest.raises(documents.DuplicateDocument):
        documents.deposit_all([checked[1]])
    assert len(stored_objects()) == objects
    assert search(api, doctor, patient=person["patient_id"], _total="accurate").json_body["total"] == 1
