"""Caregivers (docs/domain.md § Caregivers; docs/api.md § Caregivers): an adult names one person to
help with their space.

The adult invites them (the space's one SPACE#CAREGIVER item, written only while none is invited
or active: one conditional write decides between racing invitations); the invited person gets a
code by email, recorded as pending with the invitation (deferred_notices: a code is never lost
between the commit and the send), of which only a keyed hash is kept; they accept it logged in as
themselves, the code's lock counted as the provisional code's is (enrolment/service.py). Either
side ends it, at once. What the caregiver may do is the access policy's (core.policy.decision:
caregiver), under their own opaque id; each step is in the adult's history.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from chalicelib.core import clock
from chalicelib.core.data import spaces
from chalicelib.core.errors import Conflict, InvalidCode, InvalidRequest, NotFound, TooManyAttempts
from chalicelib.core.history import journal
from chalicelib.core.history.journal import StateChanged
from chalicelib.core.http.pagination import PageQuery, decode_cursor, scope
from chalicelib.core.ids import new_id
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import CAREGIVER, CAREGIVING, CREATE, DELETE, READ, Resource
from chalicelib.core.policy.gate import authorize, check, load_space
from chalicelib.core.security import pseudonyms
from chalicelib.core.security.auth import Principal
from chalicelib.enrolment import codes, deferred_notices, store
from chalicelib.enrolment.models import (
    Caregiver,
    CaregiverAccepted,
    CaregiverAnswer,
    CaregiverCreate,
    CaregiverInvitation,
    CaregiverPage,
)
from chalicelib.enrolment.service import MAX_FAILED_ATTEMPTS

CODE_VALIDITY = timedelta(days=7)
TEMPLATE = "caregiver.invitation"
THE_CAREGIVING = Resource(kind=CAREGIVING)
ONE_ONLY = "This space already has a caregiver, invited or active: end that one first."
YOURSELF = "The caregiver must be another person than the patient."
WRONG_CODE = "The code is wrong or has expired, or this invitation is not for you."
NO_CAREGIVER = "No such caregiver."


def _counts(caregiver: dict | None, now: str) -> bool:
    """Invited (and not expired) or active: the space's one caregiver."""
    if caregiver is None:
        return False
    return caregiver["status"] == store.ACTIVE or (
        caregiver["status"] == store.INVITED and caregiver["expires_at"] > now
    )


def invite(principal: Principal, patient_id: str, request: CaregiverCreate) -> CaregiverInvitation:
    granted = authorize(principal, patient_id, CREATE, THE_CAREGIVING)  # the adult, on their own space
    digest = pseudonyms.ins_digest(request.ins)
    if digest == granted.items.account.get("ins_digest"):
        raise InvalidRequest(YOURSELF, [{"field": "ins", "message": YOURSELF}])
    now = clock.now()
    current = granted.items.caregiver
    if _counts(current, clock.iso(now)):
        raise Conflict(ONE_ONLY)
    code = codes.new_code()
    caregiver_id = new_id("cgv")
    expires_at = clock.iso(now + CODE_VALIDITY)
    invitation = {
        "caregiver_id": caregiver_id,
        "patient_id": patient_id,
        "person_id": spaces.person_id_for(digest),
        "ins_digest": digest,
        "family_name": request.family_name,
        "given_names": request.given_names,
        "email": request.email,
        "status": store.INVITED,
        "invited_at": clock.iso(now),
        "expires_at": expires_at,
        "code_digest": pseudonyms.code_digest(codes.normalize(code), caregiver_id),
        "failed_attempts": 0,
    }
    notice = deferred_notices.pending(invitation, TEMPLATE, code, expires_at)
    writes = [*store.caregiver_invitation_items(invitation, current, clock.iso(now)), notice]
    try:
        journal.commit(patient_id, granted.actor_ref, "caregiver.invited", caregiver_id, writes=writes)
    except StateChanged:
        raise Conflict(ONE_ONLY) from None
    deferred_notices.send(invitation, TEMPLATE, code, expires_at)
    return CaregiverInvitation(**{name: invitation[name] for name in CaregiverInvitation.model_fields})


def _locked(invitation: dict) -> bool:
    return int(invitation.get("failed_attempts", 0)) >= MAX_FAILED_ATTEMPTS


def _too_many() -> TooManyAttempts:
    return TooManyAttempts("Too many wrong attempts: this invitation is locked. Ask for a new one.")


def accept(principal: Principal, answer: CaregiverAnswer) -> CaregiverAccepted:
    """The invitation sent to the caller (their token's INS) whose code this is becomes the
    caregiving. A wrong code, an expired invitation and an invitation for someone else all get the
    same answer; each wrong code is counted against the caller's pending invitations, and once 5
    are counted the invitation is locked (429), the count and the acceptance ordered by their
    conditional writes (enrolment/service.py _check_code: the same lock)."""
    person_id = spaces.patient_id_for(pseudonyms.ins_digest(principal.ins))
    now = clock.iso(clock.now())
    pending = [i for i in store.caregiver_invitations(person_id) if i["expires_at"] > now] if person_id else []
    if not pending:
        raise InvalidCode(WRONG_CODE)
    unlocked = [i for i in pending if not _locked(i)]
    if not unlocked:
        raise _too_many()
    for invitation in unlocked:
        given = pseudonyms.code_digest(codes.normalize(answer.code), invitation["caregiver_id"])
        if hmac.compare_digest(invitation["code_digest"], given):
            return _accept(invitation, now)
    counted = [store.count_wrong_caregiver_code(i["patient_id"], MAX_FAILED_ATTEMPTS) for i in unlocked]
    if not any(counted) and all(_locked(store.get_caregiver(i["patient_id"]) or i) for i in unlocked):
        raise _too_many()  # locked in the meantime
    raise InvalidCode(WRONG_CODE)


def _accept(invitation: dict, now: str) -> CaregiverAccepted:
    patient_id = invitation["patient_id"]
    caregiver = ActorRef(role=CAREGIVER, id=invitation["person_id"])
    writes = store.caregiver_acceptance_items(invitation, now, MAX_FAILED_ATTEMPTS)
    try:
        journal.commit(patient_id, caregiver, "caregiver.accepted", invitation["caregiver_id"], writes=writes)
    except StateChanged:
        current = store.get_caregiver(patient_id)
        if current is not None and current["caregiver_id"] == invitation["caregiver_id"] and _locked(current):
            raise _too_many() from None
        raise InvalidCode(WRONG_CODE) from None  # withdrawn in the meantime
    return CaregiverAccepted(patient_id=patient_id, status="active")


def _public(caregiver: dict) -> Caregiver:
    return Caregiver(**{name: caregiver[name] for name in Caregiver.model_fields if name in caregiver})


def list_caregivers(principal: Principal, patient_id: str, query: PageQuery) -> CaregiverPage:
    """The space's caregiver invited or active (one at most: a single page)."""
    granted = authorize(principal, patient_id, READ, THE_CAREGIVING)
    decode_cursor(query.cursor, scope("caregivers", principal, patient_id=patient_id))  # only a cursor of ours
    current = granted.items.caregiver
    shown = [_public(current)] if current and _counts(current, clock.iso(clock.now())) and not query.cursor else []
    return CaregiverPage(items=shown, next_cursor=None)


def end(principal: Principal, patient_id: str, caregiver_id: str) -> None:
    """The patient ends the caregiving (or withdraws the invitation), or the caregiver leaves: at
    once, as the policy reads the item on every request."""
    items = load_space(patient_id)
    current = items.caregiver
    if current is None or current["caregiver_id"] != caregiver_id or current["status"] == store.ENDED:
        check(principal, items, READ, THE_CAREGIVING)  # the policy's answer to whoever may not look
        raise NotFound(NO_CAREGIVER)
    theirs = Resource(kind=CAREGIVING, author=(CAREGIVER, current["person_id"]))
    granted = check(principal, items, DELETE, theirs)
    try:
        journal.commit(
            patient_id,
            granted.actor_ref,
            "caregiver.ended",
            caregiver_id,
            writes=store.caregiving_end_items(current, clock.iso(clock.now())),
        )
    except StateChanged:
        raise NotFound(NO_CAREGIVER) from None
