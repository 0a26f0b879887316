"""Health profile endpoints (docs/api.md § Health profile)."""

from __future__ import annotations

from chalicelib.core.http.api import Call, Router, roles

router = Router(__name__, tag="profile")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.profile import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.profile import service

    return service


RECORD = roles("patient", "professional", "app", note="decided by the access policy (apps: by scope)")
BASE = "/v1/patients/{patient_id}/profile"


@router.route(BASE, "GET", access=RECORD, response=lambda: models().Profile)
def read_profile(call: Call, patient_id: str):
    """The health profile: every entry, and the latest measurement of each kind."""
    return service().profile(call.principal, patient_id)


@router.route(
    BASE + "/allergies",
    "POST",
    access=RECORD,
    body=lambda: models().AllergyCreate,
    response=lambda: models().Allergy,
    status=201,
)
def add_allergy(call: Call, patient_id: str):
    """Adds an allergy."""
    return service().add(call.principal, patient_id, "allergies", call.body)


@router.route(
    BASE + "/treatments",
    "POST",
    access=RECORD,
    body=lambda: models().TreatmentCreate,
    response=lambda: models().Treatment,
    status=201,
)
def add_treatment(call: Call, patient_id: str):
    """Adds a treatment."""
    return service().add(call.principal, patient_id, "treatments", call.body)


@router.route(
    BASE + "/vaccinations",
    "POST",
    access=RECORD,
    body=lambda: models().VaccinationCreate,
    response=lambda: models().Vaccination,
    status=201,
)
def add_vaccination(call: Call, patient_id: str):
    """Adds a vaccination."""
    return service().add(call.principal, patient_id, "vaccinations", call.body)


@router.route(
    BASE + "/conditions",
    "POST",
    access=RECORD,
    body=lambda: models().ConditionCreate,
    response=lambda: models().Condition,
    status=201,
)
def add_condition(call: Call, patient_id: str):
    """Adds a condition (medical history)."""
    return service().add(call.principal, patient_id, "conditions", call.body)


@router.route(
    BASE + "/measurements",
    "POST",
    access=RECORD,
    body=lambda: models().MeasurementCreate,
    response=lambda: models().Measurement,
    status=201,
)
def add_measurement(call: Call, patient_id: str):
    """Adds a measurement (patient, professional with read access, app with measurements:write)."""
    return service().add(call.principal, patient_id, "measurements", call.body)


@router.route(
    BASE + "/measurements",
    "GET",
    access=RECORD,
    query=lambda: models().MeasurementQuery,
    response=lambda: models().MeasurementPage,
)
def measurement_series(call: Call, patient_id: str):
    """One kind's measurements over a period, oldest first."""
    return service().series(call.principal, patient_id, call.query)


@router.route(
    BASE + "/emergency_contacts",
    "POST",
    access=RECORD,
    body=lambda: models().EmergencyContactCreate,
    response=lambda: models().EmergencyContact,
    status=201,
)
def add_emergency_contact(call: Call, patient_id: str):
    """Adds a person to call in an emergency."""
    return service().add(call.principal, patient_id, "emergency_contacts", call.body)


@router.route(
    BASE + "/trusted_person",
    "POST",
    access=RECORD,
    body=lambda: models().TrustedPersonCreate,
    response=lambda: models().TrustedPerson,
    status=201,
)
def add_trusted_person(call: Call, patient_id: str):
    """Names the trusted person (personne de confiance); 409 if one is named already."""
    return service().add(call.principal, patient_id, "trusted_person", call.body)


@router.route(
    "/v1/patients/{patient_id}/emergency-summary",
    "GET",
    access=roles(
        "patient",
        "professional",
        note="the patient, a representative; a professional in emergency or regulation access or who may read",
    ),
    response=lambda: models().EmergencySummary,
)
def emergency_summary(call: Call, patient_id: str):
    """Allergies, treatments, conditions, vaccinations, people to call, trusted person, advance directives."""
    return service().emergency_summary(call.principal, patient_id)


@router.route(BASE + "/{section}/{entry_id}", "DELETE", access=RECORD, status=204)
def delete_entry(call: Call, patient_id: str, section: str, entry_id: str) -> None:
    """Deletes a profile entry or a measurement (patient)."""
    service().remove(call.principal, patient_id, section, entry_id)
