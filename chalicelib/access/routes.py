"""Patients and access endpoints (docs/api.md § Patients, access and activity).

Thin: the rules are in ``chalicelib.access.service`` and every decision in the policy.
"""

from __future__ import annotations

from chalicelib.core.http.api import Call, Router, roles

router = Router(__name__, tag="access")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.access import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.access import service

    return service


PATIENT = roles("patient", note="the patient, on their own space")
PROFESSIONAL = roles("professional")
SETTINGS_PATH = "/v1/patients/{patient_id}/access"


@router.route(
    "/v1/patients/search",
    "POST",
    access=PROFESSIONAL,
    body=lambda: models().SearchRequest,
    response=lambda: models().SearchResult,
)
def search(call: Call):
    """Finds an open space by INS and birth date, with what the caller may do in it."""
    return service().search(call.principal, call.body)


@router.route(SETTINGS_PATH, "GET", access=PATIENT, response=lambda: models().AccessSettings)
def get_access(call: Call, patient_id: str):
    """The space's access settings: grants in force, blocks, treating doctor, emergency choice."""
    return service().access_settings(call.principal, patient_id)


@router.route(
    SETTINGS_PATH + "/grants/{rpps}",
    "PUT",
    access=PATIENT,
    body=lambda: models().GrantRequest,
    response=lambda: models().Grant,
)
def put_grant(call: Call, patient_id: str, rpps: str):
    """Lets a professional consult the record, optionally until a date; 409 if blocked."""
    grant = service().grant(call.principal, patient_id, service().rpps_from_path(rpps), call.body)
    return grant.model_dump(exclude_none=True)


@router.route(SETTINGS_PATH + "/grants/{rpps}", "DELETE", access=PATIENT, status=204)
def delete_grant(call: Call, patient_id: str, rpps: str):
    """Withdraws a professional's grant (nothing to do if there is none)."""
    service().revoke(call.principal, patient_id, service().rpps_from_path(rpps))


@router.route(SETTINGS_PATH + "/blocks/{rpps}", "PUT", access=PATIENT, response=lambda: models().Block)
def put_block(call: Call, patient_id: str, rpps: str):
    """Blocks a professional: no reading, deposit or messaging; drops their grant at once."""
    return service().block(call.principal, patient_id, service().rpps_from_path(rpps))


@router.route(SETTINGS_PATH + "/blocks/{rpps}", "DELETE", access=PATIENT, status=204)
def delete_block(call: Call, patient_id: str, rpps: str):
    """Unblocks a professional (no grant is restored)."""
    service().unblock(call.principal, patient_id, service().rpps_from_path(rpps))


@router.route(
    SETTINGS_PATH + "/treating-doctor",
    "PUT",
    access=PATIENT,
    body=lambda: models().TreatingDoctor,
    response=lambda: models().TreatingDoctorOut,
)
def put_treating_doctor(call: Call, patient_id: str):
    """Names the treating doctor (médecin traitant); 409 if that professional is blocked."""
    return service().set_treating_doctor(call.principal, patient_id, call.body.rpps)


@router.route(SETTINGS_PATH + "/treating-doctor", "DELETE", access=PATIENT, status=204)
def delete_treating_doctor(call: Call, patient_id: str):
    """Removes the treating doctor designation."""
    service().remove_treating_doctor(call.principal, patient_id)


@router.route(
    SETTINGS_PATH + "/emergency",
    "PUT",
    access=PATIENT,
    body=lambda: models().EmergencySetting,
    response=lambda: models().EmergencySettingOut,
)
def put_emergency_setting(call: Call, patient_id: str):
    """Allows or refuses emergency access to the record."""
    return service().set_emergency_setting(call.principal, patient_id, call.body.allowed)


@router.route(
    "/v1/patients/{patient_id}/emergency-access",
    "POST",
    access=roles("professional", note="not an occupational doctor; refused if the patient opted out"),
    body=lambda: models().EmergencyRequest,
    response=lambda: models().EmergencySession,
)
def emergency_access(call: Call, patient_id: str):
    """Opens the record in emergency for 4 hours, with a stated reason; the patient is told."""
    return service().open_emergency_access(call.principal, patient_id, call.body.reason)


@router.route(
    SETTINGS_PATH + "/regulation",
    "PUT",
    access=PATIENT,
    body=lambda: models().EmergencySetting,
    response=lambda: models().RegulationSettingOut,
)
def put_regulation_setting(call: Call, patient_id: str):
    """Allows or refuses the SAMU regulator doctors' access (apart from the emergency choice)."""
    return service().set_regulation_setting(call.principal, patient_id, call.body.allowed)


@router.route(
    "/v1/patients/{patient_id}/regulation-access",
    "POST",
    access=roles(
        "professional",
        note='a doctor (medecin) whose token carries "regulation": true; refused if the patient opposed',
    ),
    body=lambda: models().EmergencyRequest,
    response=lambda: models().EmergencySession,
)
def regulation_access(call: Call, patient_id: str):
    """A SAMU regulator doctor reads the record for 1 hour, with a stated reason; the patient is told."""
    return service().open_regulation_access(call.principal, patient_id, call.body.reason)
