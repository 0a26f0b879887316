"""Enrolment endpoints (docs/api.md § Enrolment)."""

from __future__ import annotations

from chalicelib.core.http.api import KIB, MIB, PUBLIC, Call, Router, page_query, roles

router = Router(__name__, tag="enrolment")


def models():
    """The module's pydantic models: loaded with the first request, not at cold start."""
    from chalicelib.enrolment import models

    return models


def service():
    """The module's rules (and boto3 under them): loaded with the first request, not at cold start."""
    from chalicelib.enrolment import service

    return service


def families():
    """Guardianships and dependants (the family rules themselves are the access policy's)."""
    from chalicelib.enrolment import families

    return families


def caregivers():
    """Caregivers' invitations and caregivings (what a caregiver may do is the access policy's)."""
    from chalicelib.enrolment import caregivers

    return caregivers


AGENT = roles("enrolment_agent")
CODE_ANSWER_LIMIT = 4 * KIB  # an INS, a birth date and a code: under 200 bytes
INVITATIONS_LIMIT = 2 * MIB  # 500 invitees, each with up to 2 representatives: about 4 KiB each


def _agent(call: Call):
    from chalicelib.core.models import ActorRef

    return ActorRef(role="enrolment_agent", id=call.caller.sub)


@router.route(
    "/v1/enrolment/campaigns",
    "POST",
    access=AGENT,
    body=lambda: models().CampaignCreate,
    response=lambda: models().Campaign,
    status=201,
)
def create_campaign(call: Call):
    """Creates an enrolment campaign."""
    return service().create_campaign(call.body)


@router.route(
    "/v1/enrolment/campaigns/{campaign_id}", "GET", access=AGENT, response=lambda: models().CampaignWithCounts
)
def get_campaign(call: Call, campaign_id: str):
    """A campaign and how many of its people are in each status."""
    return service().get_campaign(campaign_id)


@router.route(
    "/v1/enrolment/campaigns/{campaign_id}/invitations",
    "POST",
    access=AGENT,
    body=lambda: models().InvitationsRequest,
    response=lambda: models().InvitationsResult,
    body_limit=INVITATIONS_LIMIT,
)
def invite(call: Call, campaign_id: str):
    """Invites up to 500 people (one cohort, one timer)."""
    return service().invite(_agent(call), campaign_id, call.body)


@router.route(
    "/v1/enrolment/activate",
    "POST",
    access=PUBLIC,
    body=lambda: models().CodeAnswer,
    response=lambda: models().Activated,
    body_limit=CODE_ANSWER_LIMIT,
)
def activate(call: Call):
    """Activates a space with the provisional code."""
    return service().activate(call.body)


@router.route(
    "/v1/enrolment/oppose",
    "POST",
    access=PUBLIC,
    body=lambda: models().CodeAnswer,
    response=lambda: models().StatusOnly,
    body_limit=CODE_ANSWER_LIMIT,
)
def oppose(call: Call):
    """Opposes the creation of a space with the provisional code."""
    return service().oppose(call.body)


@router.route(
    "/v1/enrolment/oppositions",
    "POST",
    access=AGENT,
    body=lambda: models().AgentOpposition,
    response=lambda: models().StatusOnly,
)
def oppose_for(call: Call):
    """Records an opposition received by phone, in person or by mail."""
    return service().oppose_for(_agent(call), call.body)


@router.route("/v1/me", "GET", access=roles("patient"), response=lambda: models().Me)
def me(call: Call):
    """The calling person's space."""
    return service().me(call.principal)


@router.route(
    "/v1/me/close",
    "POST",
    access=roles("patient"),
    body=lambda: models().CloseRequest,
    response=lambda: models().StatusOnly,
)
def close(call: Call):
    """Closes the calling person's space; professional access stops at once."""
    service().close(call.principal, call.body.delete_now)
    return {"status": "closed"}


# --- families (docs/api.md § Families) ------------------------------------------------------------------
@router.route(
    "/v1/patients/{patient_id}/close",
    "POST",
    access=roles("patient", note="the holder, or their legal representative or guardian"),
    body=lambda: models().CloseRequest,
    response=lambda: models().StatusOnly,
)
def close_space(call: Call, patient_id: str):
    """Closes a space, as /v1/me/close does: for a dependant's space, their representative closes it."""
    service().close(call.principal, call.body.delete_now, patient_id)
    return {"status": "closed"}


@router.route(
    "/v1/me/dependants", "GET", access=roles("patient"), query=page_query, response=lambda: models().DependantPage
)
def dependants(call: Call):
    """The spaces the caller manages now, as legal representative of a minor or guardian of an adult."""
    return families().dependants(call.principal, call.query)


@router.route(
    "/v1/enrolment/guardianships",
    "POST",
    access=AGENT,
    body=lambda: models().GuardianshipCreate,
    response=lambda: models().Guardianship,
    status=201,
)
def record_guardianship(call: Call):
    """Records a guardian appointed by a judge for a protected adult (adults only)."""
    return families().record_guardianship(_agent(call), call.body)


@router.route("/v1/enrolment/guardianships/{guardianship_id}", "DELETE", access=AGENT, status=204)
def end_guardianship(call: Call, guardianship_id: str):
    """Ends a guardianship: the guardian's access stops at once."""
    families().end_guardianship(_agent(call), guardianship_id)


# --- caregivers (docs/api.md § Caregivers) -------------------------------------------------------------
@router.route(
    "/v1/patients/{patient_id}/caregivers",
    "POST",
    access=roles("patient", note="the adult themself, on their own space"),
    body=lambda: models().CaregiverCreate,
    response=lambda: models().CaregiverInvitation,
    status=201,
)
def invite_caregiver(call: Call, patient_id: str):
    """Invites the space's one caregiver: they get a code by email (valid 7 days)."""
    return caregivers().invite(call.principal, patient_id, call.body)


@router.route(
    "/v1/patients/{patient_id}/caregivers",
    "GET",
    access=roles("patient", note="the patient, or their caregiver"),
    query=page_query,
    response=lambda: models().CaregiverPage,
)
def list_caregivers(call: Call, patient_id: str):
    """The space's caregiver, invited or active."""
    return caregivers().list_caregivers(call.principal, patient_id, call.query)


@router.route(
    "/v1/patients/{patient_id}/caregivers/{caregiver_id}",
    "DELETE",
    access=roles("patient", note="the patient, or the caregiver leaving"),
    status=204,
)
def end_caregiving(call: Call, patient_id: str, caregiver_id: str):
    """Ends the caregiving (or withdraws the invitation), at once."""
    caregivers().end(call.principal, patient_id, caregiver_id)


@router.route(
    "/v1/caregivers/accept",
    "POST",
    access=roles("patient", note="the invited caregiver, logged in as themself"),
    body=lambda: models().CaregiverAnswer,
    response=lambda: models().CaregiverAccepted,
    body_limit=CODE_ANSWER_LIMIT,
)
def accept_caregiving(call: Call):
    """Accepts an invitation to be a caregiver with the code of its email."""
    return caregivers().accept(call.principal, call.body)
