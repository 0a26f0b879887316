"""GET /v1/health and GET /v1/openapi.json: public."""

from __future__ import annotations

from chalicelib.core.http.api import PUBLIC, Call, Router

router = Router(__name__, tag="platform")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.platform import models

    return models


@router.route("/v1/health", "GET", access=PUBLIC, response=lambda: models().Health)
def health(call: Call) -> dict:
    """Liveness of the API."""
    return {"status": "ok"}


@router.route("/v1/openapi.json", "GET", access=PUBLIC)
def openapi_document(call: Call) -> dict:
    """This API's OpenAPI 3.1 document, generated from its routes and models."""
    from chalicelib.platform import service

    return service.openapi_document()
