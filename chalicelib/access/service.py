"""Access settings the patient manages (grants, blocks, treating doctor, emergency choice),
the professional's patient search and emergency access. Every decision is the policy's, asked
through the gate (gate.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.access import notices
from chalicelib.access import store as access_store
from chalicelib.access.models import (
    AccessSettings,
    Block,
    EmergencySession,
    EmergencySettingOut,
    Grant,
    GrantRequest,
    OpenEmergencySession,
    RegulationSettingOut,
    SearchRequest,
    SearchResult,
    TreatingDoctorOut,
)
from chalicelib.core import clock, logs
from chalicelib.core.errors import Conflict, InvalidRequest, InvalidRpps
from chalicelib.core.history import journal
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import (
    CREATE,
    EMERGENCY_ACCESS,
    MANAGE_ACCESS,
    PATHWAYS,
    READ,
    REGULATION_ACCESS,
    Pathway,
    Resource,
    decide,
    is_minor,
)
from chalicelib.core.policy.gate import Authorized, authorize, look_up
from chalicelib.core.policy.notify import notify_space
from chalicelib.core.security import crypto
from chalicelib.core.security.auth import Principal
from chalicelib.core.security.identifiers import InvalidIdentifier, normalize_rpps

# --- access settings, search and emergency access (docs/api.md § Patients, access and activity) -------
SETTINGS = Resource(kind="access_settings")
WHOLE_SPACE = Resource(kind="space")
# "Can read" means access to the record in general (grant, treating doctor, emergency session):
# a document type every profession may read stands for it. Masking and the profession x document
# type matrix still apply document by document.
ANY_DOCUMENT = Resource(kind="document", document_type="other")
NOTIFIER = ActorRef(role="system", id="notifications")
ATTEMPTS = 3


def rpps_from_path(value: str) -> str:
    try:
        return normalize_rpps(value)
    except InvalidIdentifier as error:
        raise InvalidRpps(error.message) from None


def _changing() -> Conflict:
    return Conflict("These access settings are changing right now; reload them and try again.")


# Professional: find a patient ---------------------------------------------------------------------


def search(principal: Principal, request: SearchRequest) -> SearchResult:
    """The space of the person with this INS and birth date, if open, and what the caller may do
    (the rule and its history: ``gate.look_up``; a wrong birth date is the same 404)."""
    birth_date = request.birth_date.isoformat()
    found = look_up(principal, request.ins, lambda account: account.get("birth_date") == birth_date)
    now = clock.now()
    return SearchResult(
        patient_id=found.space.patient_id,
        status=found.space.status,
        can_read=decide(found.actor, found.space, READ, ANY_DOCUMENT, now).allowed,
        can_deposit=decide(found.actor, found.space, CREATE, ANY_DOCUMENT, now).allowed,
        minor=is_minor(found.space.birth_date, now.date()),
        caregiver=any(caregiving.active for caregiving in found.space.caregivers),
    )


# Patient: read and change the settings ------------------------------------------------------------


def access_settings(principal: Principal, patient_id: str) -> AccessSettings:
    """The settings as they apply now: expired grants and sessions are left out."""
    found = authorize(principal, patient_id, READ, SETTINGS)
    now = clock.now()
    grants = [
        _grant(item)
        for rpps, item in sorted(found.items.grants.items())
        if not item.get("expires_at") or clock.parse_iso(item["expires_at"]) > now
    ]
    return AccessSettings(
        grants=grants,
        blocked=[Block(rpps=rpps, blocked_at=item["blocked_at"]) for rpps, item in sorted(found.items.blocks.items())],
        treating_doctor=TreatingDoctorOut(rpps=found.space.treating_doctor) if found.space.treating_doctor else None,
        emergency_access_allowed=found.space.emergency_access_allowed,
        emergency_sessions=_open_sessions(found, BREAK_GLASS, now),
        regulation_access_allowed=found.space.regulation_access_allowed,
        regulation_sessions=_open_sessions(found, REGULATION, now),
    )


def _open_sessions(found: Authorized, emergency: Emergency, now: datetime) -> list[OpenEmergencySession]:
    """One pathway's sessions still open, while the patient allows that pathway."""
    if not emergency.pathway.allowed(found.space):
        return []
    return [
        OpenEmergencySession(rpps=rpps, opened_at=item["opened_at"], expires_at=item["expires_at"])
        for rpps, item in sorted(getattr(found.items, emergency.sessions).items())
        if clock.parse_iso(item["expires_at"]) > now
    ]


def _grant(item: dict) -> Grant:
    return Grant(rpps=item["rpps"], granted_at=item["granted_at"], expires_at=item.get("expires_at"))


@dataclass
class _Change:
    """What one settings change writes: nothing when ``action`` is None (already so)."""

    result: Any
    action: str | None = None
    resource: str | None = None
    items: list[dict] | None = None


def _change(principal: Principal, patient_id: str, plan: Callable[[Authorized], _Change]) -> Any:
    """Reads the space, plans the change on it, and commits the change with its history event;
    when a concurrent change made a condition fail, plans again on the new state."""
    for _ in range(ATTEMPTS):
        found = authorize(principal, patient_id, MANAGE_ACCESS, SETTINGS)
        change = plan(found)
        if change.action is None:
            return change.result
        try:
            journal.commit(patient_id, found.actor_ref, change.action, change.resource, writes=change.items or [])
            return change.result
        except journal.StateChanged:
            continue
    raise _changing()


def _blocked(rpps: str) -> Conflict:
    return Conflict("You blocked this professional: unblock them first.")


def grant(principal: Principal, patient_id: str, rpps: str, request: GrantRequest) -> Grant:
    now = clock.now()
    expires_at = None
    if request.expires_at is not None:
        if request.expires_at <= now:
            raise InvalidRequest(
                "The end of the grant must be in the future.",
                [{"field": "expires_at", "message": "Must be in the future."}],
            )
        expires_at = clock.iso(request.expires_at)

    def plan(found: Authorized) -> _Change:
        if rpps in found.items.blocks:
            raise _blocked(rpps)
        item = {"rpps": rpps, "granted_at": clock.iso(now)}
        if expires_at:
            item["expires_at"] = expires_at
        return _Change(_grant(item), "access.granted", rpps, access_store.grant_items(patient_id, item))

    return _change(principal, patient_id, plan)


def revoke(principal: Principal, patient_id: str, rpps: str) -> None:
    """Idempotent: revoking a grant that does not exist changes (and records) nothing."""

    def plan(found: Authorized) -> _Change:
        if rpps not in found.items.grants:
            return _Change(None)
        return _Change(None, "access.revoked", rpps, access_store.revoke_items(patient_id, rpps))

    _change(principal, patient_id, plan)


def block(principal: Principal, patient_id: str, rpps: str) -> Block:
    """Blocks a professional: their grant and emergency session go in the same transaction, and
    so does their treating-doctor designation (a blocked professional gets nothing, docs/domain.md § Who may see what).
    Blocking again returns the existing block."""

    def plan(found: Authorized) -> _Change:
        existing = found.items.blocks.get(rpps)
        if existing is not None:
            return _Change(Block(rpps=rpps, blocked_at=existing["blocked_at"]))
        item = {"rpps": rpps, "blocked_at": clock.iso(clock.now())}
        items = access_store.block_items(patient_id, item, found.space.treating_doctor)
        return _Change(Block(**item), "access.blocked", rpps, items)

    return _change(principal, patient_id, plan)


def unblock(principal: Principal, patient_id: str, rpps: str) -> None:
    """Idempotent. Unblocking restores no grant: the patient grants again if they wish."""

    def plan(found: Authorized) -> _Change:
        if rpps not in found.items.blocks:
            return _Change(None)
        return _Change(None, "access.unblocked", rpps, access_store.unblock_items(patient_id, rpps))

    _change(principal, patient_id, plan)


def set_treating_doctor(principal: Principal, patient_id: str, rpps: str) -> TreatingDoctorOut:
    def plan(found: Authorized) -> _Change:
        if rpps in found.items.blocks:
            raise _blocked(rpps)
        current = found.space.treating_doctor
        if current == rpps:
            return _Change(TreatingDoctorOut(rpps=rpps))
        items = access_store.set_treating_doctor_items(patient_id, rpps, current)
        return _Change(TreatingDoctorOut(rpps=rpps), "access.treating_doctor_set", rpps, items)

    return _change(principal, patient_id, plan)


def remove_treating_doctor(principal: Principal, patient_id: str) -> None:
    def plan(found: Authorized) -> _Change:
        current = found.space.treating_doctor
        if current is None:
            return _Change(None)
        return _Change(
            None,
            "access.treating_doctor_removed",
            current,
            access_store.remove_treating_doctor_items(patient_id, current),
        )

    _change(principal, patient_id, plan)


@dataclass(frozen=True)
class Emergency:
    """What the access module keeps of one emergency pathway (core.policy.decision PATHWAYS): its
    sessions in the loaded space, the history events of the choice and of a notice to the treating
    doctor, the purpose sealing the stated reason, and the patient's notice."""

    pathway: Pathway
    sessions: str  # SpaceItems group
    setting_event: str
    reason_purpose: str
    notice: Callable[[datetime], tuple[str, str]]

    @property
    def notified_event(self) -> str:
        return f"{self.pathway.action}.notified"


BREAK_GLASS = Emergency(
    PATHWAYS[EMERGENCY_ACCESS], "emergencies", "access.emergency_setting", "emergency_reason", notices.emergency_access
)
REGULATION = Emergency(
    PATHWAYS[REGULATION_ACCESS],
    "regulations",
    "access.regulation_setting",
    "regulation_reason",
    notices.regulation_access,
)


def set_emergency_setting(principal: Principal, patient_id: str, allowed: bool) -> EmergencySettingOut:
    set_choice(principal, patient_id, BREAK_GLASS, allowed)
    return EmergencySettingOut(emergency_access_allowed=allowed)


def set_regulation_setting(principal: Principal, patient_id: str, allowed: bool) -> RegulationSettingOut:
    set_choice(principal, patient_id, REGULATION, allowed)
    return RegulationSettingOut(regulation_access_allowed=allowed)


def set_choice(principal: Principal, patient_id: str, emergency: Emergency, allowed: bool) -> None:
    """Any change of one pathway's choice closes that pathway's sessions found (the other's stay):
    opting out ends them at once, and allowing again must not revive a session opened before an
    opt-out."""

    def plan(found: Authorized) -> _Change:
        if emergency.pathway.allowed(found.space) == allowed:
            return _Change(None)
        opened = sorted(getattr(found.items, emergency.sessions))
        items = access_store.setting_items(patient_id, emergency.pathway, allowed, opened)
        return _Change(None, emergency.setting_event, "allowed" if allowed else "refused", items)

    _change(principal, patient_id, plan)


# Professional: emergency access ("bris de glace") and the SAMU regulators' access ----------------


def emergency_reason_context(
    patient_id: str, session: dict, purpose: str = BREAK_GLASS.reason_purpose
) -> dict[str, str]:
    return {
        "purpose": purpose,
        "patient_id": patient_id,
        "rpps": session["rpps"],
        "opened_at": session["opened_at"],
    }


def open_emergency_access(principal: Principal, patient_id: str, reason: str) -> EmergencySession:
    return open_session(principal, patient_id, reason, BREAK_GLASS)


def open_regulation_access(principal: Principal, patient_id: str, reason: str) -> EmergencySession:
    return open_session(principal, patient_id, reason, REGULATION)


def open_session(principal: Principal, patient_id: str, reason: str, emergency: Emergency) -> EmergencySession:
    """Opens a read session for the pathway's duration (break-glass 4 hours, regulation 1 hour)
    unless the policy refuses (patient opted out of this pathway, blocked, occupational doctor,
    not a regulator: 403; no open space: 404), then tells the patient and the treating doctor.

    The stated reason is kept for audit on the session item (replaced on renewal), encrypted like
    a message (it likely describes the patient's condition) under a context naming the patient,
    the professional and the opening; it is never put in a notification or in the history event.
    """
    pathway = emergency.pathway
    for _ in range(ATTEMPTS):
        found = authorize(principal, patient_id, pathway.action, WHOLE_SPACE)
        now = clock.now()
        session: dict[str, Any] = {
            "rpps": found.actor.id,
            "profession": found.actor.profession,
            "opened_at": clock.iso(now),
            "expires_at": clock.iso(now + pathway.duration),
        }
        context = emergency_reason_context(patient_id, session, emergency.reason_purpose)
        session["reason_sealed"] = crypto.seal(reason, context)
        items = access_store.session_items(patient_id, pathway, session)
        try:
            journal.commit(patient_id, found.actor_ref, pathway.action, found.actor.id, writes=items)
            break
        except journal.StateChanged:
            continue  # blocked, opted out or closed meanwhile: the policy says so on the next read
    else:
        raise _changing()
    _tell_afterwards(found, now, emergency)
    return EmergencySession(expires_at=session["expires_at"])


def _tell_afterwards(found: Authorized, at: datetime, emergency: Emergency) -> None:
    """The session is open whatever happens here: a failed notification is logged, not raised.

    The patient (a minor's legal representatives) gets an email (else a letter) without health
    content, name or INS. The treating
    doctor has no contact address in our data: the notice for them is an activity event
    (``<action>.notified``, actor system, resource their RPPS) in the history they may
    read as treating doctor (GET /v1/patients/{patient_id}/activity).
    """
    action = emergency.pathway.action
    try:
        notify_space(found.items.account, *emergency.notice(at), purpose=action, today=at.date())
    except Exception:  # noqa: BLE001 - a failed notice is logged: the access is granted whatever happens
        logs.error("emergency access: patient notification failed", pathway=action, exc_info=True)
    doctor = found.space.treating_doctor
    if doctor and doctor != found.actor.id:
        try:
            journal.record(found.space.patient_id, NOTIFIER, emergency.notified_event, doctor)
        except Exception:  # noqa: BLE001 - as above, logged
            logs.error("emergency access: treating doctor notice failed", pathway=action, exc_info=True)
