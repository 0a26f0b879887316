"""The gate every endpoint touching a person's space goes through.

``authorize`` loads the space (account, access settings and guardians: one query), builds the
actor from the token, and asks the pure policy (core/policy/decision.py); a denial becomes 404 when
the resource's existence must not leak (the policy says which), 400 when the request itself is
wrong, else 403. ``check`` decides one more action on a space already loaded (e.g. on a
document once read). ``look_up`` is a professional's search of a space by INS, the one rule
of the native and FHIR searches.

A patient token whose INS is that of a legal representative (on the account) or of a guardian
(SPACE#GUARDIAN# items) of the space becomes a ``representative`` actor, under the person's own
opaque id, and one whose INS is the caregiver's (SPACE#CAREGIVER, invited, active or ended) a
``caregiver`` actor; the policy decides whether the relationship still holds. An app token is honoured
through its connection to the space while the app is referenced: both read from the catalogue
table in one call, for an app's request only (core.data.spaces connected_app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from chalicelib.core import clock
from chalicelib.core.data import spaces
from chalicelib.core.data.spaces import SpaceItems
from chalicelib.core.errors import Forbidden, InvalidRequest, NotFound
from chalicelib.core.history import journal
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import (
    BAD_REQUEST_REASONS,
    CAREGIVER,
    GUARDIAN,
    LEGAL_REPRESENTATIVE,
    SEARCH,
    Actor,
    Caregiving,
    Decision,
    Reason,
    Representation,
    Resource,
    Space,
    decide,
    majority_day,
)
from chalicelib.core.security import pseudonyms
from chalicelib.core.security.auth import Principal

NO_SPACE = "No such patient space, or you have no access to it."
NOT_FOUND = {"space": NO_SPACE, "document": "No such document."}
# Refusals about the space rather than what is asked of it: they answer as a space that does not
# exist, whatever was asked (a closed or opposed space never answers "No such document.").
SPACE_REASONS = {
    Reason.SPACE_NOT_OPEN,
    Reason.NOT_OWN_SPACE,
    Reason.NOT_REPRESENTATIVE,
    Reason.REPRESENTATION_ENDED,
    Reason.NOT_CAREGIVER,
}
HIDDEN_MISUSE = "Only a professional may hide a document from the legal representatives, and only on a minor's space."


@dataclass
class Authorized:
    items: SpaceItems
    space: Space
    actor: Actor
    decision: Decision

    @property
    def actor_ref(self) -> ActorRef:
        return ActorRef(role=self.actor.role, id=self.actor.id)


def _representatives(items: SpaceItems) -> list[tuple[dict[str, Any], Representation]]:
    """The space's legal representatives and guardians: (stored item, relationship)."""
    legal = [
        (r, Representation(r["person_id"], LEGAL_REPRESENTATIVE)) for r in items.account.get("representatives", [])
    ]
    guardians = [
        (g, Representation(g["person_id"], GUARDIAN, date.fromisoformat(g["until"]) if g.get("until") else None))
        for g in items.guardians.values()
    ]
    return legal + guardians


def to_space(items: SpaceItems) -> Space:
    account = items.account
    return Space(
        patient_id=items.patient_id,
        status=account["status"],
        birth_date=date.fromisoformat(account["birth_date"]) if account.get("birth_date") else None,
        representations=tuple(representation for _, representation in _representatives(items)),
        caregivers=tuple(
            Caregiving(c["person_id"], active=c["status"] == "active") for c in [items.caregiver] if c is not None
        ),
        treating_doctor=account.get("treating_doctor"),
        emergency_access_allowed=bool(account.get("emergency_access_allowed", True)),
        grants=MappingProxyType(
            {
                rpps: clock.parse_iso(g["expires_at"]) if g.get("expires_at") else None
                for rpps, g in items.grants.items()
            }
        ),
        blocked=frozenset(items.blocks),
        emergency_sessions=_sessions(items.emergencies),
        regulation_access_allowed=bool(account.get("regulation_access_allowed", True)),
        regulation_sessions=_sessions(items.regulations),
    )


def _sessions(items: dict[str, dict[str, Any]]) -> MappingProxyType[str, Any]:
    """RPPS -> end of the session (break-glass or regulation) that professional opened."""
    return MappingProxyType({rpps: clock.parse_iso(item["expires_at"]) for rpps, item in items.items()})


def _live_connection(items: SpaceItems, app_id: str) -> dict[str, Any] | None:
    """The app's connection to the space while the app is referenced (read once per request)."""
    if app_id not in items.app_connections:
        app, connection = spaces.connected_app(items.patient_id, app_id)
        referenced = app is not None and app.get("status") == "referenced"
        items.app_connections[app_id] = connection if referenced else None
    return items.app_connections[app_id]


def actor_of(principal: Principal, items: SpaceItems | None) -> Actor:
    if principal.role == "patient":
        digest = pseudonyms.ins_digest(principal.ins)
        if items is not None:
            if items.account.get("ins_digest") == digest:
                return Actor(role="patient", id=items.patient_id, patient_id=items.patient_id)
            for item, representation in _representatives(items):
                if item.get("ins_digest") == digest:
                    return Actor(role="representative", id=representation.person_id)
            if items.caregiver is not None and items.caregiver.get("ins_digest") == digest:
                return Actor(role=CAREGIVER, id=items.caregiver["person_id"])
        return Actor(role="patient", id=principal.sub)
    if principal.role == "professional":
        return Actor(
            role="professional", id=principal.rpps, profession=principal.profession, regulation=principal.regulation
        )
    if principal.role == "app":
        connection = None
        if items is not None and principal.app_patient_id == items.patient_id:  # else refused on that alone
            connection = _live_connection(items, principal.client_id)
        return Actor(
            role="app",
            id=principal.client_id,
            patient_id=principal.app_patient_id,
            scopes=principal.scopes & frozenset(connection["scopes"]) if connection else frozenset(),
            app_connected=connection is not None,
        )
    return Actor(role=principal.role, id=principal.sub)


def load_space(patient_id: str) -> SpaceItems:
    """The space and its access settings (one query); 404 if there is no such space."""
    items = spaces.load(patient_id)
    if items is None:
        raise NotFound(NO_SPACE)
    return items


def authorize(principal: Principal, patient_id: str, action: str, resource: Resource | None = None) -> Authorized:
    return check(principal, load_space(patient_id), action, resource or Resource(kind="space"))


def check(principal: Principal, items: SpaceItems, action: str, resource: Resource) -> Authorized:
    """Decides one more action on an already loaded space (e.g. on a document once read)."""
    actor = actor_of(principal, items)
    space = to_space(items)
    decision = decide(actor, space, action, resource, clock.now())
    if not decision.allowed:
        if decision.hide_existence:
            # the same answer as for what does not exist at all
            raise NotFound(
                NO_SPACE if decision.reason in SPACE_REASONS else NOT_FOUND.get(resource.kind, "No such resource.")
            )
        if decision.reason in BAD_REQUEST_REASONS:
            raise InvalidRequest(HIDDEN_MISUSE, [{"field": "hidden_from_representatives", "message": HIDDEN_MISUSE}])
        if decision.reason == Reason.MANAGED_BY_REPRESENTATIVES and space.birth_date is not None:
            # who manages it and until when, without naming them
            raise Forbidden(
                "This space is managed by your legal representatives until "
                f"{majority_day(space.birth_date).isoformat()}."
            )
        raise Forbidden(f"You may not do this on this space ({decision.reason.replace('_', ' ')}).")
    return Authorized(items=items, space=space, actor=actor, decision=decision)


def open_space_by_ins(ins: str) -> SpaceItems:
    """The open space of the person with this INS (the INS only as its keyed hash): the one
    lookup of every entry point naming a person by INS. No space and a space not open (invited,
    opposed, closed) get the same 404: an INS never tells whether its space was opposed or closed."""
    patient_id = spaces.patient_id_for(pseudonyms.ins_digest(ins))
    items = spaces.load(patient_id) if patient_id else None
    if items is None or not items.is_open:
        raise NotFound(NO_SPACE)
    return items


def look_up(
    principal: Principal, ins: str, matches: Callable[[dict[str, Any]], bool] = lambda account: True
) -> Authorized:
    """A professional looks a person up by INS (``matches``: more the account must agree with,
    e.g. the birth date). No space, ``matches`` false and a space not open (invited, opposed,
    closed) all get the same 404; a refusal of the policy's ``search`` decision (blocked,
    occupational doctor without a grant) 403. A search that finds is recorded in the patient's
    history (``access.searched``): the patient sees who looked them up."""
    items = open_space_by_ins(ins)
    if not matches(items.account):
        raise NotFound(NO_SPACE)
    found = check(principal, items, SEARCH, Resource(kind="space"))
    journal.record(found.space.patient_id, found.actor_ref, "access.searched")
    return found
