"""The gate every endpoint touching a person's space goes through.

``authorize`` loads the space (account, access settings and the activity head: one query),
builds the actor from the token, and asks the pure policy (policy.py); a denial becomes 404
when the resource's existence must not leak (the policy says which), else 403. ``check``
decides one more action on a space already loaded (e.g. on a document once read). ``look_up``
is a professional's search of a space by INS, the one rule of the native and FHIR searches.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

from chalicelib.core import clock, history, pseudonyms, spaces
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Forbidden, NotFound
from chalicelib.core.history import ActorRef
from chalicelib.core.policy import SEARCH, Actor, Decision, Resource, Space, decide
from chalicelib.core.spaces import SpaceItems

NO_SPACE = "No such patient space, or you have no access to it."


@dataclass
class Authorized:
    items: SpaceItems
    space: Space
    actor: Actor
    decision: Decision

    @property
    def actor_ref(self) -> ActorRef:
        return ActorRef(role=self.actor.role, id=self.actor.id)


def to_space(items: SpaceItems) -> Space:
    account = items.account
    return Space(
        patient_id=items.patient_id,
        status=account["status"],
        treating_doctor=account.get("treating_doctor"),
        emergency_access_allowed=bool(account.get("emergency_access_allowed", True)),
        grants=MappingProxyType(
            {rpps: clock.parse_iso(g["expires_at"]) if g.get("expires_at") else None for rpps, g in items.grants.items()}
        ),
        blocked=frozenset(items.blocks),
        emergency_sessions=MappingProxyType(
            {rpps: clock.parse_iso(e["expires_at"]) for rpps, e in items.emergencies.items()}
        ),
    )


def actor_of(principal: Principal, items: SpaceItems | None) -> Actor:
    if principal.role == "patient":
        own = items is not None and items.account.get("ins_digest") == pseudonyms.ins_digest(principal.ins)
        patient_id = items.patient_id if own else None
        return Actor(role="patient", id=patient_id or principal.sub, patient_id=patient_id)
    if principal.role == "professional":
        return Actor(role="professional", id=principal.rpps, profession=principal.profession)
    if principal.role == "app":
        connection = next(
            (c for c in (items.connections.values() if items else []) if c.get("app_id") == principal.client_id),
            None,
        )
        scopes = principal.scopes & frozenset(connection["scopes"]) if connection else frozenset()
        return Actor(
            role="app",
            id=principal.client_id,
            patient_id=principal.app_patient_id,
            scopes=scopes,
            app_connected=connection is not None and spaces.app_is_referenced(principal.client_id),
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
            raise NotFound(NO_SPACE if resource.kind == "space" else "No such resource.")
        raise Forbidden(f"You may not do this on this space ({decision.reason.replace('_', ' ')}).")
    return Authorized(items=items, space=space, actor=actor, decision=decision)


def find_by_ins(ins: str) -> SpaceItems | None:
    """The space of the person with this INS, whatever its status (the INS only as its keyed hash)."""
    patient_id = spaces.patient_id_for(pseudonyms.ins_digest(ins))
    return spaces.load(patient_id) if patient_id else None


def look_up(principal: Principal, ins: str, matches: Callable[[dict], bool] = lambda account: True) -> Authorized:
    """A professional looks a person up by INS (``matches``: more the account must agree with,
    e.g. the birth date). No space, ``matches`` false and a space not open (invited, opposed,
    closed) all get the same 404; a refusal of the policy's ``search`` decision (blocked,
    occupational doctor without a grant) 403. A search that finds is recorded in the patient's
    history (``access.searched``): the patient sees who looked them up."""
    items = find_by_ins(ins)
    if items is None or not matches(items.account):
        raise NotFound(NO_SPACE)
    found = check(principal, items, SEARCH, Resource(kind="space"))
    history.record(found.space.patient_id, found.actor_ref, "access.searched", head=items.activity_head)
    return found
