"""Catalogue of referenced apps, connections and app tokens, through the API on moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.security.identifiers import rpps_check_digit

APPS = "/v1/catalogue/apps"


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def app_body(**overrides) -> dict:
    return {
        "name": "GlucoSuivi",
        "publisher": "Diabète Connecté SAS",
        "category": "diabetes",
        "description": "Carnet de glycémie relié à votre lecteur.",
        "scopes": ["measurements:write", "measurements:read"],
        **overrides,
    }


def glucose(value=1.12, **extra) -> dict:
    return {"kind": "glucose", "value": value, "unit": "g/L", "measured_at": ago(minutes=10), **extra}


def actions(api, patient_id: str, patient: str) -> list[tuple[str, str, str | None]]:
    events = api.get(f"/v1/patients/{patient_id}/activity?limit=200", token=patient).json_body["items"]
    return [(e["action"], e["actor"]["role"], e.get("resource")) for e in reversed(events)]


@pytest.fixture
def admin(token):
    return token("catalogue_admin")


def add_app(api, admin, **overrides) -> dict:
    response = api.post(APPS, app_body(**overrides), token=admin)
    assert response.status_code == 201, response.json_body
    return response.json_body


def connect(api, patient_id, patient, app_id, scopes) -> dict:
    response = api.post(f"/v1/patients/{patient_id}/connections", {"app_id": app_id, "scopes": scopes}, token=patient)
    assert response.status_code == 201, response.json_body
    return response.json_body


def test_catalogue_listing_is_public_by_category_and_hides_withdrawn(api, admin, token):
    gluco = add_app(api, admin)
    assert set(gluco) == {"app_id", "name", "publisher", "category", "description", "scopes", "status", "referenced_at"}
    assert gluco["status"] == "referenced" and gluco["referenced_at"].endswith("Z")
    steps = add_app(api, admin, name="Marche+", category="physical_activity", scopes=["measurements:write"])
    insulin = add_app(api, admin, name="Insulib", category="diabetes", scopes=["measurements:read", "agenda:write"])

    everything = api.get(APPS)  # no token
    assert everything.status_code == 200
    assert {a["app_id"] for a in everything.json_body["items"]} == {gluco["app_id"], steps["app_id"], insulin["app_id"]}
    diabetes = api.get(f"{APPS}?category=diabetes").json_body["items"]
    assert [a["name"] for a in diabetes] == ["GlucoSuivi", "Insulib"]

    withdrawn = api.patch(f"{APPS}/{insulin['app_id']}", {"status": "withdrawn"}, token=admin)
    assert withdrawn.status_code == 200 and withdrawn.json_body["status"] == "withdrawn"
    assert [a["name"] for a in api.get(f"{APPS}?category=diabetes").json_body["items"]] == ["GlucoSuivi"]
    assert api.get(f"{APPS}/{insulin['app_id']}").status_code == 404
    assert api.get(f"{APPS}/{gluco['app_id']}").json_body == gluco
    back = api.patch(f"{APPS}/{insulin['app_id']}", {"status": "referenced"}, token=admin)
    assert back.status_code == 200 and back.json_body["status"] == "referenced"
    assert len(api.get(f"{APPS}?category=diabetes").json_body["items"]) == 2

    paged = api.get(f"{APPS}?limit=2").json_body
    rest = api.get(f"{APPS}?limit=2&cursor={paged['next_cursor']}").json_body
    assert len(paged["items"]) == 2 and {a["app_id"] for a in paged["items"] + rest["items"]} == {
        gluco["app_id"],
        steps["app_id"],
        insulin["app_id"],
    }

    assert api.get(f"{APPS}?category=Not A Slug").status_code == 400
    agent = token("enrolment_agent")
    assert api.post(APPS, app_body(), token=agent).status_code == 403
    assert api.post(APPS, app_body()).status_code == 401
    assert api.patch(f"{APPS}/{gluco['app_id']}", {"status": "gone"}, token=admin).status_code == 400
    assert api.patch(f"{APPS}/app_unknown", {"status": "withdrawn"}, token=admin).status_code == 404
    bad = api.post(APPS, app_body(scopes=["measurements:write", "health:everything"]), token=admin)
    assert bad.status_code == 400 and bad.json_body["error"]["details"][0]["field"].startswith("scopes")
    fixed = add_app(api, admin, app_id="client.glucosuivi-2")
    assert fixed["app_id"] == "client.glucosuivi-2"
    assert api.post(APPS, app_body(app_id="client.glucosuivi-2"), token=admin).status_code == 409


def test_connections_are_a_subset_of_the_apps_scopes(api, admin, enrolment):
    patient_id, patient = enrolment.active_patient()
    gluco = add_app(api, admin)
    base = f"/v1/patients/{patient_id}/connections"
    too_much = api.post(
        base, {"app_id": gluco["app_id"], "scopes": ["measurements:write", "documents:read"]}, token=patient
    )
    assert too_much.status_code == 400 and too_much.json_body["error"]["details"][0]["field"] == "scopes"
    unknown = api.post(base, {"app_id": "app_unknown", "scopes": ["measurements:write"]}, token=patient)
    assert unknown.status_code == 400 and unknown.json_body["error"]["details"][0]["field"] == "app_id"
    empty = api.post(base, {"app_id": gluco["app_id"], "scopes": []}, token=patient)
    assert empty.status_code == 400 and empty.json_body["error"]["details"][0]["field"] == "scopes"

    connection = connect(api, patient_id, patient, gluco["app_id"], ["measurements:write"])
    assert set(connection) == {"connection_id", "app_id", "scopes", "created_at"}
    assert connection["scopes"] == ["measurements:write"]
    twice = api.post(base, {"app_id": gluco["app_id"], "scopes": ["measurements:read"]}, token=patient)
    assert twice.status_code == 409
    listed = api.get(base, token=patient).json_body
    assert listed == {"items": [connection], "next_cursor": None}

    assert api.delete(f"{base}/{connection['connection_id']}", token=patient).status_code == 204
    assert api.get(base, token=patient).json_body["items"] == []
    assert api.delete(f"{base}/{connection['connection_id']}", token=patient).status_code == 404
    again = connect(api, patient_id, patient, gluco["app_id"], ["measurements:read"])  # revoked: may connect again
    assert again["connection_id"] != connection["connection_id"]

    withdrawn = add_app(api, admin, name="Ancienne")
    api.patch(f"{APPS}/{withdrawn['app_id']}", {"status": "withdrawn"}, token=admin)
    refused = api.post(base, {"app_id": withdrawn["app_id"], "scopes": ["measurements:write"]}, token=patient)
    assert refused.status_code == 400 and refused.json_body["error"]["details"][0]["field"] == "app_id"

    history = actions(api, patient_id, patient)
    assert ("connection.created", "patient", connection["connection_id"]) in history
    assert ("connection.revoked", "patient", connection["connection_id"]) in history


def test_only_the_patient_manages_connections(api, admin, enrolment, token):
    patient_id, _patient = enrolment.active_patient()
    _, other = enrolment.active_patient(2)
    gluco = add_app(api, admin)
    base = f"/v1/patients/{patient_id}/connections"
    body = {"app_id": gluco["app_id"], "scopes": ["measurements:write"]}
    assert api.post(base, body, token=other).status_code == 404
    first = "1000000001"
    doctor = token("professional", rpps=first + rpps_check_digit(first), profession="medecin")
    assert api.post(base, body, token=doctor).status_code == 403
    app_token = token("app", client_id=gluco["app_id"], patient_id=patient_id, scope="measurements:write")
    assert api.post(base, body, token=app_token).status_code == 403
    assert api.get(base, token=admin).status_code == 403


def test_app_pushes_glucose_and_loses_access_at_once(api, admin, enrolment, token):
    patient_id, patient = enrolment.active_patient()
    gluco = add_app(api, admin)
    app_id = gluco["app_id"]
    connection = connect(api, patient_id, patient, app_id, ["measurements:write"])
    # the token claims more than the patient granted: the connection's scopes bound it
    app = token("app", client_id=app_id, patient_id=patient_id, scope="measurements:write measurements:read")
    measurements = f"/v1/patients/{patient_id}/profile/measurements"

    pushed = api.post(measurements, glucose(device="Accu-Chek Guide"), token=app)
    assert pushed.status_code == 201, pushed.json_body
    assert pushed.json_body["author"] == {"role": "app", "id": app_id}
    assert pushed.json_body["device"] == "Accu-Chek Guide"
    series = api.get(f"{measurements}?kind=glucose", token=patient).json_body["items"]
    assert [(m["value"], m["device"], m["author"]["role"]) for m in series] == [(1.12, "Accu-Chek Guide", "app")]

    # a scope it lacks: reading (not granted by the patient), other sections, documents
    lacks = api.get(f"{measurements}?kind=glucose", token=app)
    assert lacks.status_code == 403 and "scope" in lacks.json_body["error"]["message"]
    allergy = api.post(f"/v1/patients/{patient_id}/profile/allergies", {"substance": "Latex"}, token=app)
    assert allergy.status_code == 403
    assert api.get(f"/v1/patients/{patient_id}/profile", token=app).status_code == 403
    delete = api.delete(f"{measurements}/{pushed.json_body['entry_id']}", token=app)
    assert delete.status_code == 403
    assert api.get(f"/v1/patients/{patient_id}/export", token=app).status_code == 403
    # another patient's space: the token does not name it
    other_id, _ = enrolment.active_patient(2)
    assert api.post(f"/v1/patients/{other_id}/profile/measurements", glucose(), token=app).status_code == 404

    # revocation: refused at once, whatever the token's expiry
    assert (
        api.delete(f"/v1/patients/{patient_id}/connections/{connection['connection_id']}", token=patient).status_code
        == 204
    )
    revoked = api.post(measurements, glucose(), token=app)
    assert revoked.status_code == 403 and "not connected" in revoked.json_body["error"]["message"]

    # connected again, then withdrawn from the catalogue: refused at once; referenced again: back
    connect(api, patient_id, patient, app_id, ["measurements:write"])
    assert api.post(measurements, glucose(1.2), token=app).status_code == 201
    assert api.patch(f"{APPS}/{app_id}", {"status": "withdrawn"}, token=admin).status_code == 200
    withdrawn = api.post(measurements, glucose(1.3), token=app)
    assert withdrawn.status_code == 403 and "not connected" in withdrawn.json_body["error"]["message"]
    assert api.patch(f"{APPS}/{app_id}", {"status": "referenced"}, token=admin).status_code == 200
    assert api.post(measurements, glucose(1.4), token=app).status_code == 201

    # invalid pushes are 400 naming the field, as for anyone
    bad = api.post(measurements, glucose(unit="mg/dL"), token=app)
    assert bad.status_code == 400 and bad.json_body["error"]["details"][0]["field"] == "unit"

    values = [m["value"] for m in api.get(f"{measurements}?kind=glucose", token=patient).json_body["items"]]
    assert sorted(values) == [1.12, 1.2, 1.4]
    history = actions(api, patient_id, patient)
    assert [(a, r) for a, r, _ in history if a == "measurement.created"] == [("measurement.created", "app")] * 3


def test_app_reads_with_its_scope_and_each_read_is_recorded(api, admin, enrolment, token):
    patient_id, patient = enrolment.active_patient()
    reader = add_app(api, admin, name="Tableau", category="prevention", scopes=["measurements:read", "profile:read"])
    connect(api, patient_id, patient, reader["app_id"], ["measurements:read", "profile:read"])
    api.post(f"/v1/patients/{patient_id}/profile/measurements", glucose(), token=patient)
    api.post(f"/v1/patients/{patient_id}/profile/allergies", {"substance": "Pollen"}, token=patient)
    app = token("app", client_id=reader["app_id"], patient_id=patient_id, scope="measurements:read profile:read")
    series = api.get(f"/v1/patients/{patient_id}/profile/measurements?kind=glucose", token=app)
    assert series.status_code == 200 and len(series.json_body["items"]) == 1
    profile = api.get(f"/v1/patients/{patient_id}/profile", token=app)
    assert profile.status_code == 200 and profile.json_body["allergies"][0]["substance"] == "Pollen"
    assert api.post(f"/v1/patients/{patient_id}/profile/measurements", glucose(), token=app).status_code == 403
    narrow = token("app", client_id=reader["app_id"], patient_id=patient_id, scope="measurements:read")
    assert api.get(f"/v1/patients/{patient_id}/profile", token=narrow).status_code == 403  # token scope bounds it too
    history = actions(api, patient_id, patient)
    assert ("app.read", "app", "measurements:glucose") in history
    assert ("app.read", "app", "profile") in history


def _tables_called(monkeypatch) -> list[tuple[str, set[str]]]:
    """Every DynamoDB call from now on: (operation, the tables it names)."""
    from botocore.client import BaseClient

    calls: list[tuple[str, set[str]]] = []
    real = BaseClient._make_api_call

    def recording(client, operation, params):
        if client.meta.service_model.service_name == "dynamodb":
            named = {params["TableName"]} if "TableName" in params else set(params.get("RequestItems", {}))
            named |= {spec["TableName"] for item in params.get("TransactItems", []) for spec in item.values()}
            calls.append((operation, named))
        return real(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def test_connections_are_the_catalogue_tables_and_only_an_apps_request_reads_them(
    api, admin, enrolment, token, monkeypatch
):
    import boto3

    from chalicelib.core.data import layout
    from chalicelib.core.settings import settings

    patient_id, patient = enrolment.active_patient()
    app_id = add_app(api, admin)["app_id"]
    connection = connect(api, patient_id, patient, app_id, ["measurements:write"])
    dynamodb = boto3.resource("dynamodb", region_name="eu-west-3")
    catalogue = settings().module_table(layout.CATALOGUE_TABLE)
    spaces = dynamodb.Table(settings().table_name).scan()["Items"]
    assert not [
        i for i in spaces if i["pk"].startswith("APP#") or i["sk"].startswith(("SPACE#CONNECTION#", "CONNAPP#"))
    ]
    guard = dynamodb.Table(catalogue).get_item(Key=layout.app_connection(patient_id, app_id))["Item"]
    assert (guard["connection_id"], guard["scopes"]) == (connection["connection_id"], ["measurements:write"])

    app = token("app", client_id=app_id, patient_id=patient_id, scope="measurements:write")
    measurements = f"/v1/patients/{patient_id}/profile/measurements"
    calls = _tables_called(monkeypatch)
    assert api.post(measurements, glucose(), token=patient).status_code == 201
    assert not [call for call in calls if catalogue in call[1]]  # a patient's request: no connection read
    calls.clear()
    assert api.post(measurements, glucose(1.3), token=app).status_code == 201
    assert [call for call in calls if catalogue in call[1]] == [("BatchGetItem", {catalogue})]  # app and guard at once
    calls.clear()
    other_id, _ = enrolment.active_patient(2)
    assert api.post(f"/v1/patients/{other_id}/profile/measurements", glucose(), token=app).status_code == 404
    assert not [call for call in calls if catalogue in call[1]]  # a token naming another space: refused unread
