"""Families (docs/domain.md § Families; docs/api.md § Families): who acts on whose space.

A minor's legal representatives are named at the invitation (service.invite) and kept on the
child's account; a protected adult's guardian is recorded here by an insurer agent. Each is a
person under their own opaque id (core.data.spaces.person_id_for) and has an entry in their
DEPENDANTS partition (core.data.layout), which ``GET /v1/me/dependants`` reads. What they may do on
the space, and until when, is the access policy's (core.policy.decision: representatives).
"""

from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.data import spaces
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.history import journal
from chalicelib.core.history.journal import StateChanged
from chalicelib.core.http.pagination import PageQuery, decode_cursor, encode_cursor, scope
from chalicelib.core.ids import new_id
from chalicelib.core.models import ActorRef
from chalicelib.core.security import pseudonyms
from chalicelib.core.security.auth import Principal
from chalicelib.enrolment import store
from chalicelib.enrolment.models import Dependant, DependantPage, Guardianship, GuardianshipCreate

NO_ADULT = "Nobody with this INS and birth date has been invited."


def record_guardianship(agent: ActorRef, request: GuardianshipCreate) -> Guardianship:
    """The guardian acts on the adult's space until ``until`` (the adult keeps their own access);
    the step is in the adult's history. 409 if this person is already the adult's guardian, or the
    space is closed."""
    patient_id = spaces.patient_id_for(pseudonyms.ins_digest(request.ins))
    account = spaces.get_account(patient_id) if patient_id else None
    if patient_id is None or account is None or account["birth_date"] != request.birth_date.isoformat():
        raise NotFound(NO_ADULT)
    if account["status"] == "closed":
        raise Conflict("This space is closed.")
    digest = pseudonyms.ins_digest(request.guardian.ins)
    guardian = {
        "guardianship_id": new_id("gdn"),
        "person_id": spaces.person_id_for(digest),
        "ins_digest": digest,
        **request.guardian.model_dump(mode="json", exclude={"ins"}),
        "court_reference": request.court_reference,
        "recorded_at": clock.iso(clock.now()),
        "until": request.until.isoformat() if request.until else None,
    }
    guardian = {name: value for name, value in guardian.items() if value is not None}
    try:
        journal.commit(
            patient_id,
            agent,
            "guardianship.recorded",
            guardian["guardianship_id"],
            writes=store.guardianship_items(patient_id, guardian),
        )
    except StateChanged:
        raise Conflict("This person is already this adult's guardian: end that guardianship first.") from None
    return Guardianship(guardianship_id=guardian["guardianship_id"], patient_id=patient_id, until=guardian.get("until"))


def end_guardianship(agent: ActorRef, guardianship_id: str) -> None:
    """The guardian's access stops at once; the step is in the adult's history."""
    guardianship = store.get_guardianship(guardianship_id)
    if guardianship is None:
        raise NotFound("No such guardianship.")
    try:
        journal.commit(
            guardianship["patient_id"],
            agent,
            "guardianship.ended",
            guardianship_id,
            writes=store.end_guardianship_items(guardianship, guardianship_id),
        )
    except StateChanged:
        raise NotFound("No such guardianship.") from None


def dependants(principal: Principal, query: PageQuery) -> DependantPage:
    """The spaces the caller acts on now: as legal representative until the child's 18th
    birthday, as guardian until the guardianship's end."""
    person_id = spaces.patient_id_for(pseudonyms.ins_digest(principal.ins))
    if person_id is None:
        return DependantPage(items=[], next_cursor=None)
    list_scope = scope("dependants", principal)
    start_key = decode_cursor(query.cursor, list_scope)
    entries, next_key = store.dependants_page(person_id, query.limit, start_key, clock.now().date().isoformat())
    accounts = store.accounts([entry["patient_id"] for entry in entries])
    items = [
        Dependant(
            patient_id=entry["patient_id"],
            family_name=account["family_name"],
            given_names=account["given_names"],
            birth_date=account["birth_date"],
            status=account["status"],
            relationship=entry["relationship"],
            until=entry.get("until"),
        )
        for entry in entries
        if (account := accounts.get(entry["patient_id"]))
    ]
    return DependantPage(items=items, next_cursor=encode_cursor(next_key, list_scope))
