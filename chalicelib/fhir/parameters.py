"""The parameters each FHIR search takes: one list for the search itself, its OpenAPI form and the
CapabilityStatement (light: the routes read it at cold start)."""

from __future__ import annotations

PAGING = ("_count", "_cursor", "_total")
DOCUMENT_SEARCH = ("patient", "patient.identifier", "identifier", "type", "status", "date", *PAGING)
OBSERVATION_SEARCH = ("patient", "code", "date", "_sort", *PAGING)
PATIENT_SEARCH = ("identifier",)
