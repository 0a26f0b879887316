"""GET /v1/patients/{patient_id}/activity and /activity/verify (docs/api.md § Patients, access and activity)."""

from __future__ import annotations

from chalicelib.core.http.api import Call, Router, page_query, roles

router = Router(__name__, tag="activity")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.activity import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.activity import service

    return service


@router.route(
    "/v1/patients/{patient_id}/activity",
    "GET",
    access=roles("patient", "professional", note="the patient, or their treating doctor"),
    query=page_query,
    response=lambda: models().ActivityPage,
)
def list_activity(call: Call, patient_id: str):
    """Activity history of a space, newest first."""
    return service().list_events(call.principal, patient_id, call.query.limit, call.query.cursor)


@router.route(
    "/v1/patients/{patient_id}/activity/verify",
    "GET",
    access=roles("patient", note="the patient"),
    query=lambda: models().VerifyQuery,
    response=lambda: models().ChainCheck,
)
def verify_activity(call: Call, patient_id: str):
    """Checks the history's hash chain from its newest signed head (from the genesis while none is
    signed: ``signed`` false): an edited, removed or reordered event makes it invalid, even with
    the chain recomputed after it, and so does a head the signing key did not sign.

    ``full=true``: every event from the genesis, and the chain must pass through the signed head;
    what an event edited before that head without its chain recomputed cannot pass.

    ``events`` counts the checked events the caller may read."""
    return service().verify(call.principal, patient_id, full=call.query.full)
