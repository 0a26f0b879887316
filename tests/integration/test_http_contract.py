"""The contract's conventions on every route: error shape, validation details, CORS, deny by default."""

import pytest
from openapi_spec_validator import validate

from app import app
from chalicelib.core.http.api import JSON_BODY_LIMIT, OPERATIONS

ORIGIN = "https://app.example.test"


def test_invalid_json_body(api, token):
    response = api.post(
        "/v1/enrolment/campaigns",
        token=token("enrolment_agent"),
        raw=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_request"


def test_validation_lists_each_bad_field(api, token):
    body = {"name": "", "response_days": 500, "extra": 1}
    response = api.post("/v1/enrolment/campaigns", body, token=token("enrolment_agent"))
    assert response.status_code == 400
    fields = {d["field"] for d in response.json_body["error"]["details"]}
    assert fields == {"name", "response_days", "extra"}


def test_non_json_content_type_is_415(api, token):
    response = api.post(
        "/v1/enrolment/campaigns",
        token=token("enrolment_agent"),
        raw=b"name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json_body["error"]["code"] == "unsupported_media_type"


def test_invalid_ins_has_its_own_code(api):
    response = api.post("/v1/enrolment/activate", {"ins": "185057512345600", "birth_date": "1985-05-01", "code": "X"})
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_ins"
    assert "185057512345600" not in response.body.decode()


def test_cors_for_allowed_origin_only(api):
    allowed = api.get("/v1/health", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = api.get("/v1/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_on_errors_and_preflight(api):
    error = api.get("/v1/me", headers={"Origin": ORIGIN})
    assert error.status_code == 401 and error.headers["Access-Control-Allow-Origin"] == ORIGIN
    too_large = api.post(
        "/v1/enrolment/activate", raw=b" " * 5000, headers={"Origin": ORIGIN, "Content-Type": "application/json"}
    )
    assert too_large.status_code == 413 and too_large.headers["Access-Control-Allow-Origin"] == ORIGIN
    preflight = api.client.http.request(
        "OPTIONS", "/v1/me", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_every_route_declares_its_access_rule():
    declared = {(op.path, op.method) for op in OPERATIONS}
    for path, methods in app.routes.items():
        for method in methods:
            if method != "OPTIONS":
                assert (path, method) in declared, f"{method} {path} has no access rule"


def test_only_routes_carrying_content_or_batches_take_large_bodies():
    large = {(op.method, op.path) for op in OPERATIONS if op.body_limit > JSON_BODY_LIMIT}
    assert large == {
        ("POST", "/v1/patients/{patient_id}/documents"),
        ("POST", "/v1/conversations"),
        ("POST", "/v1/conversations/{conversation_id}/messages"),
        ("POST", "/v1/fhir"),
        ("POST", "/v1/enrolment/campaigns/{campaign_id}/invitations"),
    }


def test_openapi_document_is_valid_and_complete(api):
    document = api.get("/v1/openapi.json").json_body
    validate(document)
    listed = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert listed == {(op.path, op.method) for op in OPERATIONS}
    invite = document["paths"]["/v1/enrolment/campaigns/{campaign_id}/invitations"]["post"]
    assert invite["security"] == [{"bearer": []}]
    assert document["paths"]["/v1/health"]["get"]["security"] == []


@pytest.mark.parametrize("path", ["/v1/health", "/v1/openapi.json"])
def test_public_platform_routes(api, path):
    assert api.get(path).status_code == 200
