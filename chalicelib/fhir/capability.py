"""The CapabilityStatement: exactly what this FHIR server answers (docs/fhir.md), built from the
search parameters each resource's module accepts; tests/unit/test_fhir_capability.py holds it to the
routes."""

from __future__ import annotations

from typing import Any

from chalicelib.core.security.identifiers import INS_SYSTEM
from chalicelib.fhir import appointments, observations, service

TOKEN, REFERENCE, DATE = "token", "reference", "date"
# Result parameters: paging and counting, said in each resource's documentation, not as search parameters.
RESULT_PARAMETERS = ("_count", "_cursor", "_total", "_sort")
# name -> (type, documentation)
PARAMETERS: dict[str, dict[str, tuple[str, str]]] = {
    "DocumentReference": {
        "patient": (REFERENCE, "Patient/<patient_id> or the patient_id"),
        "patient.identifier": (TOKEN, f"{INS_SYSTEM}|<INS>, POST _search only (the INS never in a URL)"),
        "identifier": (TOKEN, "masterIdentifier: urn:ietf:rfc:3986|urn:oid:<oid> (or urn:uuid:<uuid>), or the value"),
        "type": (TOKEN, "LOINC codes of the DMP's list, comma-separated"),
        "status": (TOKEN, "current, superseded (as the caller sees them)"),
        "date": (DATE, "when deposited; ge, gt, le, lt, eq"),
    },
    "Observation": {
        "patient": (REFERENCE, "Patient/<patient_id> or the patient_id"),
        "code": (TOKEN, "one LOINC code of the measurements' list"),
        "date": (DATE, "when measured; ge, gt, le, lt, eq"),
    },
    "Patient": {"identifier": (TOKEN, f"{INS_SYSTEM}|<INS>, POST _search only")},
}
PAGES = "Pages: _count (1-200, 50), next links; total when the result fits one page, or with _total=accurate."


def _search_parameters(resource_type: str) -> list[dict]:
    return [
        {"name": name, "type": kind, "documentation": documentation}
        for name, (kind, documentation) in PARAMETERS[resource_type].items()
    ]


def accepted_parameters() -> dict[str, tuple[str, ...]]:
    """The parameters each search really takes (its module's own list)."""
    return {
        "DocumentReference": service.SEARCH_PARAMETERS,
        "Observation": observations.SEARCH_PARAMETERS,
        "Patient": service.PATIENT_SEARCH_PARAMETERS,
    }


def capability_statement() -> dict[str, Any]:
    resources = [
        {
            "type": "DocumentReference",
            "interaction": [
                {"code": "read"},
                {"code": "search-type", "documentation": f"ITI-67; POST _search for patient.identifier. {PAGES}"},
            ],
            "searchParam": _search_parameters("DocumentReference"),
        },
        {"type": "Binary", "interaction": [{"code": "read", "documentation": "ITI-68: the document's bytes"}]},
        {
            "type": "Patient",
            "interaction": [{"code": "search-type", "documentation": "POST _search only"}],
            "searchParam": _search_parameters("Patient"),
        },
        {
            "type": "Observation",
            "interaction": [
                {"code": "create", "documentation": "a measurement (Location: Observation/<entry_id>)"},
                {"code": "search-type", "documentation": f"_sort date or -date (the default). {PAGES}"},
            ],
            "searchParam": _search_parameters("Observation"),
        },
        {
            "type": "Appointment",
            "interaction": [{"code": "update", "documentation": "by identifier=<system>|<value> only"}],
            "conditionalUpdate": True,
            "documentation": f"status {' or '.join(appointments.STATUSES)}: one agenda event per identifier",
        },
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-07",
        "publisher": "Mon espace santé",
        "kind": "instance",
        "software": {"name": "Mon espace santé API"},
        "implementation": {
            "description": "Medical record for professional software (PDSm / IHE MHD: ITI-65, ITI-67, ITI-68); "
            "measurements and appointments from partners"
        },
        "fhirVersion": "4.0.1",
        "format": list(service.JSON_TYPES),
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Bearer JWT: Pro Santé Connect (professionals), the patient's, an app's (its scopes). "
                    "Errors are OperationOutcome resources. The INS only in bodies."
                ),
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": "Authorization: Bearer <JWT>",
                },
                "interaction": [
                    {"code": "transaction", "documentation": "ITI-65 Provide Document Bundle: POST /v1/fhir"},
                    {
                        "code": "batch",
                        "documentation": f"up to {observations.MAX_BATCH} Observations, each answered on its own",
                    },
                ],
                "resource": resources,
            }
        ],
    }
