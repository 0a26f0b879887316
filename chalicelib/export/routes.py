"""FHIR export endpoint (docs/api.md § Health profile)."""

from __future__ import annotations

from chalicelib.core.http.api import Call, Router, roles

router = Router(__name__, tag="export")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.export import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.export import service

    return service


@router.route(
    "/v1/patients/{patient_id}/export",
    "GET",
    access=roles("patient", note="own space only"),
    response=lambda: models().FhirBundle,
)
def export(call: Call, patient_id: str):
    """The whole space as a FHIR R4 Bundle (collection): patient, profile, measurements, document metadata."""
    return service().export(call.principal, patient_id)
