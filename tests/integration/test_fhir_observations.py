"""Observations for partner apps (docs/api.md § FHIR for partners): the native measurements (one store,
one entry id), LOINC and UCUM as the contract lists, anything else a 400 naming the field; a batch
answered entry by entry; searches a page at a time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from tests.integration import test_catalogue as catalogue
from tests.integration.test_catalogue import add_app, connect
from tests.integration.test_fhir import FHIR_JSON, outcome, rpps

admin = catalogue.admin  # the catalogue tests' fixture, here too

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def quantity(value, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def observation(patient_id: str, code: str, value=None, unit: str = "", **extra) -> dict:
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": extra.pop("when", ago(minutes=5)),
        **extra,
    }
    if value is not None:
        resource["valueQuantity"] = quantity(value, unit)
    return resource


def blood_pressure(patient_id: str, systolic=128, diastolic=82, **extra) -> dict:
    return observation(
        patient_id,
        "85354-9",
        component=[
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": quantity(systolic, "mm[Hg]")},
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]}, "valueQuantity": quantity(diastolic, "mm[Hg]")},
        ],
        **extra,
    )


def post(api, token: str, resource: dict, path: str = "/v1/fhir/Observation"):
    return api.post(path, token=token, raw=json.dumps(resource).encode(), headers=FHIR_JSON)


def find(api, token: str, **params):
    return api.get(f"/v1/fhir/Observation?{urlencode(params, doseq=True)}", token=token)


@pytest.fixture
def space(api, admin, enrolment, token):
    patient_id, patient = enrolment.active_patient()
    app_id = add_app(api, admin)["app_id"]
    connect(api, patient_id, patient, app_id, ["measurements:write", "measurements:read"])
    app = token("app", client_id=app_id, patient_id=patient_id, scope="measurements:write measurements:read")
    return {"patient_id": patient_id, "patient": patient, "app": app, "app_id": app_id}


def test_an_observation_is_the_native_measurement(api, space):
    patient_id = space["patient_id"]
    created = post(api, space["app"], observation(patient_id, "2339-0", 1.05, "g/L", device={"display": "Accu-Chek"}))
    assert created.status_code == 201, created.json_body
    entry_id = created.headers["Location"].removeprefix("Observation/")
    Observation.model_validate(created.json_body)
    assert created.json_body["id"] == entry_id and created.json_body["valueQuantity"]["code"] == "g/L"
    native = api.get(f"/v1/patients/{patient_id}/profile/measurements", token=space["patient"]).json_body["items"]
    assert [(m["entry_id"], m["kind"], m["value"], m["unit"], m["device"]) for m in native] == [
        (entry_id, "glucose", 1.05, "g/L", "Accu-Chek")
    ]
    pressure = post(api, space["patient"], blood_pressure(patient_id))  # the patient too
    assert pressure.status_code == 201, pressure.json_body
    found = find(api, space["patient"], patient=patient_id, code=f"{LOINC}|85354-9").json_body
    Bundle.model_validate(found)
    (entry,) = found["entry"]
    assert [c["valueQuantity"]["value"] for c in entry["resource"]["component"]] == [128, 82]
    assert found["total"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": {"coding": [{"system": LOINC, "code": "1234-5"}]}}, "Observation.code"),
        ({"valueQuantity": quantity(70, "lb")}, "Observation.valueQuantity.code"),
        ({"valueQuantity": {**quantity(70, "kg"), "system": "http://example.org"}}, "Observation.valueQuantity.code"),
        ({"valueQuantity": quantity(900, "kg")}, "Observation.valueQuantity.value"),
        ({"effectiveDateTime": "2999-01-01T00:00:00Z"}, "Observation.effectiveDateTime"),
        ({"status": "cancelled"}, "Observation.status"),
        ({"subject": {"reference": "Group/1"}}, "Observation.subject"),
        ({"valueQuantity": {"value": "heavy", "system": UCUM, "code": "kg"}}, "Observation.valueQuantity"),
        ({"issued": "yesterday"}, "Observation.issued"),
    ],
)
def test_anything_else_is_a_400_naming_the_field(api, space, change, field):
    resource = {**observation(space["patient_id"], "29463-7", 70, "kg"), **change}
    refused = post(api, space["app"], resource)
    assert refused.status_code == 400, refused.json_body
    expressions = [issue.get("expression", [""])[0] for issue in outcome(refused)["issue"]]
    assert any(expression.startswith(field) for expression in expressions), expressions


def test_a_blood_pressure_needs_both_components(api, space):
    incomplete = blood_pressure(space["patient_id"])
    incomplete["component"] = incomplete["component"][:1]
    refused = post(api, space["app"], incomplete)
    assert refused.status_code == 400 and "Observation.component" in str(outcome(refused))
    inverted = post(api, space["app"], blood_pressure(space["patient_id"], systolic=70, diastolic=90))
    assert inverted.status_code == 400 and "Observation.component" in str(outcome(inverted))


def test_who_may_add(api, space, token, enrolment):
    other_id, _ = enrolment.active_patient(2)
    elsewhere = post(api, space["app"], observation(other_id, "8867-4", 60, "/min"))  # not its token's patient
    assert elsewhere.status_code in (403, 404)
    reader = token("app", client_id=space["app_id"], patient_id=space["patient_id"], scope="measurements:read")
    assert post(api, reader, observation(space["patient_id"], "8867-4", 60, "/min")).status_code == 403
    doctor = token("professional", rpps="10000000009", profession="medecin")
    assert post(api, doctor, observation(space["patient_id"], "8867-4", 60, "/min")).status_code == 403
    assert (
        api.get(f"/v1/patients/{space['patient_id']}/profile/measurements", token=space["patient"]).json_body["items"]
        == []
    )


def test_a_batch_answers_each_entry_on_its_own(api, space):
    patient_id = space["patient_id"]
    good = observation(patient_id, "8310-5", 37.2, "Cel")
    bad = observation(patient_id, "8310-5", 37.2, "degF")
    entries = [{"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in (good, bad, good)]
    entries.append({"resource": good, "request": {"method": "PUT", "url": "Observation/x"}})
    answer = post(api, space["app"], {"resourceType": "Bundle", "type": "batch", "entry": entries}, "/v1/fhir")
    assert answer.status_code == 200, answer.json_body
    Bundle.model_validate(answer.json_body)
    statuses = [entry["response"]["status"] for entry in answer.json_body["entry"]]
    assert statuses == ["201 Created", "400 Bad Request", "201 Created", "400 Bad Request"]
    bad_outcome = answer.json_body["entry"][1]["response"]["outcome"]
    assert any("Observation.valueQuantity.code" in issue.get("expression", [""])[0] for issue in bad_outcome["issue"])
    native = api.get(f"/v1/patients/{patient_id}/profile/measurements", token=space["patient"]).json_body["items"]
    locations = {answer.json_body["entry"][i]["response"]["location"] for i in (0, 2)}
    assert {f"Observation/{m['entry_id']}" for m in native} == locations
    too_many = {"resourceType": "Bundle", "type": "batch", "entry": entries[:1] * 201}
    assert post(api, space["app"], too_many, "/v1/fhir").status_code == 413
    transaction = post(
        api, space["app"], {"resourceType": "Bundle", "type": "transaction", "entry": entries}, "/v1/fhir"
    )
    assert transaction.status_code == 403  # ITI-65 is professional software's


def test_search_pages_sorts_and_periods(api, space):
    patient_id = space["patient_id"]
    entries = [
        {
            "resource": observation(patient_id, "29463-7", 70 + i, "kg", when=ago(days=10 - i)),
            "request": {"method": "POST", "url": "Observation"},
        }
        for i in range(7)
    ]
    post(api, space["app"], {"resourceType": "Bundle", "type": "batch", "entry": entries}, "/v1/fhir")
    post(api, space["app"], observation(patient_id, "8302-2", 172, "cm"))
    weights, params = [], {"patient": patient_id, "code": "29463-7", "_count": 3}
    page = find(api, space["app"], **params).json_body
    assert "total" not in page
    while True:
        weights += [entry["resource"]["valueQuantity"]["value"] for entry in page["entry"]]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        page = find(api, space["app"], **params, _cursor=parse_qs(urlsplit(following[0]).query)["_cursor"][0]).json_body
    assert weights == [76, 75, 74, 73, 72, 71, 70]  # newest first, no duplicate, no gap
    oldest = find(api, space["app"], **params, _sort="date", _total="accurate").json_body
    assert [e["resource"]["valueQuantity"]["value"] for e in oldest["entry"]] == [70, 71, 72] and oldest["total"] == 7
    since = (datetime.now(UTC) - timedelta(days=8, hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = find(api, space["app"], patient=patient_id, code="29463-7", date=f"ge{since}").json_body
    assert [e["resource"]["valueQuantity"]["value"] for e in recent["entry"]] == [76, 75, 74, 73, 72]
    every = find(api, space["patient"], patient=patient_id).json_body
    assert every["total"] == 8 and every["entry"][0]["resource"]["code"]["coding"][0]["code"] == "8302-2"
    assert find(api, space["app"], patient=patient_id, code="1234-5").status_code == 400
    assert find(api, space["app"], patient=patient_id, _sort="value").status_code == 400


def test_a_professional_reads_with_access_only(api, space, token):
    patient_id = space["patient_id"]
    post(api, space["app"], observation(patient_id, "8867-4", 64, "/min"))
    doctor = token("professional", rpps=rpps(3), profession="medecin")
    assert find(api, doctor, patient=patient_id).status_code == 403
    path = f"/v1/patients/{patient_id}/access/grants/{rpps(3)}"
    assert api.put(path, {}, token=space["patient"]).status_code == 200
    found = find(api, doctor, patient=patient_id).json_body
    assert [entry["resource"]["valueQuantity"]["value"] for entry in found["entry"]] == [64]
