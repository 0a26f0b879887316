"""FHIR export through the API on moto, validated with a FHIR library (fhir.resources, R4B:
the R4 structures with R4's technical corrections)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from chalicelib.core.security.identifiers import rpps_check_digit
from tests.conftest import captured, invitee

PDF = b"%PDF-1.7\nCompte rendu de consultation.\n%%EOF"


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rpps(n: int) -> str:
    first = f"{3000000000 + n:010d}"
    return first + rpps_check_digit(first)


MEASUREMENTS: list[dict[str, Any]] = [
    {"kind": "weight", "value": 72.4, "unit": "kg"},
    {"kind": "height", "value": 176, "unit": "cm"},
    {"kind": "heart_rate", "value": 61, "unit": "/min"},
    {"kind": "temperature", "value": 37.2, "unit": "Cel"},
    {"kind": "glucose", "value": 1.05, "unit": "g/L"},
    {"kind": "glucose", "value": 5.8, "unit": "mmol/L"},
    {"kind": "blood_pressure", "value": {"systolic": 131, "diastolic": 84}, "unit": "mm[Hg]"},
]
LOINC = {
    ("weight", "kg"): "29463-7",
    ("height", "cm"): "8302-2",
    ("heart_rate", "/min"): "8867-4",
    ("temperature", "Cel"): "8310-5",
    ("glucose", "g/L"): "2339-0",
    ("glucose", "mmol/L"): "15074-8",
    ("blood_pressure", "mm[Hg]"): "85354-9",
}

UNIT_OF = {code: unit for (_, unit), code in LOINC.items()}


@pytest.fixture
def filled(api, enrolment, token):
    def set_up() -> tuple:
        person = invitee(1)
        enrolment.invite(enrolment.campaign(), [person])
        patient_id, patient = enrolment.activate(person), enrolment.patient_token(person)
        base = f"/v1/patients/{patient_id}/profile"
        entries = {
            "allergies": {"substance": "Pénicilline", "reaction": "Urticaire", "severity": "severe"},
            "treatments": {"medication": "Metformine 500 mg", "dosage": "2/j", "start_date": "2024-01-10"},
            "vaccinations": {"vaccine": "Grippe saisonnière", "date": "2025-10-20", "lot": "L-42"},
            "conditions": {"label": "Hypertension", "since": "2020-03-01", "status": "active"},
        }
        for section, body in entries.items():
            assert api.post(f"{base}/{section}", body, token=patient).status_code == 201
        for n, measurement in enumerate(MEASUREMENTS):
            reading = {**measurement, "measured_at": ago(hours=n + 1), "device": "Tensiomètre X" if n == 6 else None}
            reading = {k: v for k, v in reading.items() if v is not None}
            assert api.post(f"{base}/measurements", reading, token=patient).status_code == 201
        doctor = token("professional", rpps=rpps(1), profession="medecin", name="Dr A")
        document = {
            "type": "consultation_report",
            "title": "Consultation du 3 mars",
            "date": "2026-03-03",
            "media_type": "application/pdf",
            "content_base64": base64.b64encode(PDF).decode(),
        }
        deposited = api.post(f"/v1/patients/{patient_id}/documents", document, token=doctor)
        assert deposited.status_code == 201, deposited.json_body
        hidden = api.post(
            f"/v1/patients/{patient_id}/documents",
            {**document, "title": "À expliquer", "invisible_to_patient": True},
            token=doctor,
        )
        assert hidden.status_code == 201
        return patient_id, patient, person, deposited.json_body, doctor

    return captured((__name__, "filled"), set_up)


def test_export_is_a_valid_fhir_r4_bundle_of_the_whole_space(api, filled):
    patient_id, patient, person, document, _ = filled
    response = api.get(f"/v1/patients/{patient_id}/export", token=patient)
    assert response.status_code == 200, response.json_body
    data = response.json_body
    bundle = Bundle.model_validate(data)  # raises on any structural error
    assert bundle.type == "collection" and bundle.entry is not None
    entries: list[Any] = bundle.entry  # FHIR's elements are all optional: present here, or the test fails
    resources = [entry.resource for entry in entries]
    by_type: dict[str, list] = {}
    for resource in resources:
        by_type.setdefault(resource.get_resource_type(), []).append(resource)
    assert {k: len(v) for k, v in by_type.items()} == {
        "Patient": 1,
        "AllergyIntolerance": 1,
        "MedicationStatement": 1,
        "Immunization": 1,
        "Condition": 1,
        "Observation": len(MEASUREMENTS),
        "DocumentReference": 1,  # the document still invisible to the patient stays out
    }

    # fhir.resources checks structure and datatypes, not value sets: required bindings by hand
    assert {o.status for o in by_type["Observation"]} == {"final"}
    assert (by_type["DocumentReference"][0].status, by_type["Immunization"][0].status) == ("current", "completed")
    assert all(e.fullUrl.startswith("urn:uuid:") and len(e.fullUrl) == 45 for e in entries)

    (patient_resource,) = by_type["Patient"]
    (ins,) = patient_resource.identifier
    assert (ins.system, ins.value) == ("urn:oid:1.2.250.1.213.1.4.8", person["ins"])
    assert patient_resource.name[0].family == "Durand" and str(patient_resource.birthDate) == person["birth_date"]
    patient_url = next(e.fullUrl for e in entries if e.resource.get_resource_type() == "Patient")

    for observation in by_type["Observation"]:
        assert observation.subject.reference == patient_url
        (coding,) = observation.code.coding
        assert coding.system == "http://loinc.org"
        if coding.code == "85354-9":
            components = {c.code.coding[0].code: c.valueQuantity for c in observation.component}
            assert set(components) == {"8480-6", "8462-4"}
            assert float(components["8480-6"].value) == 131 and float(components["8462-4"].value) == 84
            assert all(q.system == "http://unitsofmeasure.org" and q.code == "mm[Hg]" for q in components.values())
            assert observation.device.display == "Tensiomètre X"
        else:
            quantity = observation.valueQuantity
            assert quantity.system == "http://unitsofmeasure.org"
            assert quantity.code == quantity.unit == UNIT_OF[coding.code]
    codes = sorted(o.code.coding[0].code for o in by_type["Observation"])
    assert codes == sorted(LOINC.values())

    (reference,) = by_type["DocumentReference"]
    attachment = reference.content[0].attachment
    assert attachment.url == f"/v1/patients/{patient_id}/documents/{document['document_id']}/content"
    assert attachment.contentType == "application/pdf" and attachment.data is None
    (coding,) = reference.type.coding  # as the FHIR interface gives it: the DMP's list
    assert (coding.system, coding.code, coding.display) == (
        "http://loinc.org",
        "11488-4",
        "CR ou fiche de consultation ou de visite",
    )
    assert base64.b64encode(PDF).decode() not in response.body.decode() and "Compte rendu" not in response.body.decode()

    (allergy,) = by_type["AllergyIntolerance"]
    assert allergy.code.text == "Pénicilline" and allergy.reaction[0].severity == "severe"
    assert by_type["Immunization"][0].lotNumber == "L-42"
    assert by_type["Condition"][0].clinicalStatus.coding[0].code == "active"
    assert by_type["MedicationStatement"][0].status == "active"
    assert len({e.fullUrl for e in entries}) == len(entries)
    json.dumps(data)  # plain JSON

    events = api.get(f"/v1/patients/{patient_id}/activity", token=patient).json_body["items"]
    assert events[0]["action"] == "export.created" and events[0]["actor"] == {"role": "patient", "id": patient_id}


def test_export_is_for_the_patient_only(api, filled, token, enrolment):
    patient_id, _, _, _, doctor = filled
    assert api.get(f"/v1/patients/{patient_id}/export", token=doctor).status_code == 403
    _, other = enrolment.active_patient(2)
    assert api.get(f"/v1/patients/{patient_id}/export", token=other).status_code == 404
    assert api.get(f"/v1/patients/{patient_id}/export", token=token("insurer")).status_code == 403
    assert api.get(f"/v1/patients/{patient_id}/export").status_code == 401


def test_empty_space_exports_the_patient_alone(api, enrolment):
    patient_id, patient = enrolment.active_patient(3)
    data = api.get(f"/v1/patients/{patient_id}/export", token=patient).json_body
    bundle = Bundle.model_validate(data)
    entries: list[Any] = bundle.entry or []
    assert [e.resource.get_resource_type() for e in entries] == ["Patient"]
