def test_health_is_public(api):
    response = api.get("/v1/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok"}
    assert response.headers["X-Request-Id"]


def test_openapi_lists_routes(api):
    doc = api.get("/v1/openapi.json").json_body
    assert doc["openapi"].startswith("3.")
    assert "/v1/patients/{patient_id}/activity" in doc["paths"]
