"""GET /v1/health and GET /v1/openapi.json: public."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.core import openapi
from chalicelib.core.api import PUBLIC, Call, Router

router = Router(__name__, tag="platform")


class Health(BaseModel):
    status: str


@router.route("/v1/health", "GET", access=PUBLIC, response=Health)
def health(call: Call) -> Health:
    """Liveness of the API."""
    return Health(status="ok")


@router.route("/v1/openapi.json", "GET", access=PUBLIC, response=None)
def openapi_document(call: Call) -> dict:
    """This API's OpenAPI 3.1 document, generated from its routes and models."""
    return openapi.document()
