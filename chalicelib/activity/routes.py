"""GET /v1/patients/{patient_id}/activity and /activity/verify (API.md § Patients, access and activity)."""

from __future__ import annotations

from chalicelib.access.policy import Resource
from chalicelib.access.service import authorize
from chalicelib.activity import service
from chalicelib.activity.models import ActivityPage, ChainCheck
from chalicelib.core.api import Call, Router, roles
from chalicelib.core.pagination import PageQuery

router = Router(__name__, tag="activity")
ACTIVITY = Resource(kind="activity")


@router.route(
    "/v1/patients/{patient_id}/activity",
    "GET",
    access=roles("patient", "professional", note="the patient, or their treating doctor"),
    query=PageQuery,
    response=ActivityPage,
)
def list_activity(call: Call, patient_id: str) -> ActivityPage:
    """Activity history of a space, newest first."""
    authorize(call.principal, patient_id, "read", ACTIVITY)
    return service.list_events(patient_id, call.query.limit, call.query.cursor)


@router.route(
    "/v1/patients/{patient_id}/activity/verify",
    "GET",
    access=roles("patient", note="the patient"),
    response=ChainCheck,
)
def verify_activity(call: Call, patient_id: str) -> ChainCheck:
    """Checks the history's hash chain: any edited or removed event makes it invalid."""
    authorize(call.principal, patient_id, "read", ACTIVITY)
    return service.verify(patient_id)
