"""GET /v1/health and GET /v1/openapi.json: public."""

from __future__ import annotations

from chalicelib.core.api import PUBLIC, Call, Router, lazy

router = Router(__name__, tag="platform", models="chalicelib.platform.models")
openapi = lazy("chalicelib.core.openapi")


@router.route("/v1/health", "GET", access=PUBLIC, response="Health")
def health(call: Call) -> dict:
    """Liveness of the API."""
    return {"status": "ok"}


@router.route("/v1/openapi.json", "GET", access=PUBLIC)
def openapi_document(call: Call) -> dict:
    """This API's OpenAPI 3.1 document, generated from its routes and models."""
    return openapi.document()
