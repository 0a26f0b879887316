"""GET /v1/patients/{patient_id}/activity and /activity/verify (API.md § Patients, access and activity)."""

from __future__ import annotations

from chalicelib.core.api import Call, Router, lazy, roles

router = Router(__name__, tag="activity", models="chalicelib.activity.models")
gate = lazy("chalicelib.access.gate")
service = lazy("chalicelib.activity.service")


def _may_read(call: Call, patient_id: str) -> None:
    from chalicelib.access.policy import Resource

    gate.authorize(call.principal, patient_id, "read", Resource(kind="activity"))


@router.route(
    "/v1/patients/{patient_id}/activity",
    "GET",
    access=roles("patient", "professional", note="the patient, or their treating doctor"),
    query="chalicelib.core.pagination:PageQuery",
    response="ActivityPage",
)
def list_activity(call: Call, patient_id: str):
    """Activity history of a space, newest first."""
    _may_read(call, patient_id)
    return service.list_events(patient_id, call.query.limit, call.query.cursor)


@router.route(
    "/v1/patients/{patient_id}/activity/verify",
    "GET",
    access=roles("patient", note="the patient"),
    response="ChainCheck",
)
def verify_activity(call: Call, patient_id: str):
    """Checks the history's hash chain: any edited or removed event makes it invalid."""
    _may_read(call, patient_id)
    return service.verify(patient_id)
