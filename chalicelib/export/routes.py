"""FHIR export endpoint (API.md § Health profile)."""

from __future__ import annotations

from chalicelib.core.api import Call, Router, lazy, roles

router = Router(__name__, tag="export", models="chalicelib.export.models")
service = lazy("chalicelib.export.service")


@router.route("/v1/patients/{patient_id}/export", "GET", access=roles("patient", note="own space only"), response="FhirBundle")
def export(call: Call, patient_id: str):
    """The whole space as a FHIR R4 Bundle (collection): patient, profile, measurements, document metadata."""
    return service.export(call.principal, patient_id)
