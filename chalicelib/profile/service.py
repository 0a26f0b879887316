"""The health profile kept by the patient (docs/domain.md § Four modules, 2; docs/api.md § Health profile),
and the emergency summary read from it (docs/domain.md § Emergency pathway).

Who may do what is the access policy's call, on the kind ``profile`` (allergies, treatments,
vaccinations, conditions) or ``measurement``: the patient; professionals with read access (add
and read); connected apps with the right scope (``measurements:write`` to push a measurement,
``measurements:read`` or ``profile:read`` to read the series, ``profile:read`` for the profile).
Every write lands in the activity history in the same transaction as the entry; every read is
recorded too (``app.read`` when an app reads, so the patient sees each app access).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from chalicelib.core import clock
from chalicelib.core.data import concurrency, purge
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.history import journal
from chalicelib.core.http.pagination import decode_cursor, encode_cursor, scope
from chalicelib.core.ids import new_sortable_id
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import (
    CREATE,
    DELETE,
    EMERGENCY_SUMMARY,
    MEASUREMENT,
    PROFESSIONAL,
    PROFILE,
    READ,
    Resource,
    decide,
)
from chalicelib.core.policy.gate import Authorized, authorize
from chalicelib.core.security.auth import Principal
from chalicelib.documents import interface as documents
from chalicelib.profile import store
from chalicelib.profile.models import (
    RESPONSES,
    SECTIONS,
    SINGLE_SECTIONS,
    UNITS,
    AdvanceDirectives,
    EmergencySummary,
    MeasurementCreate,
    MeasurementPage,
    MeasurementQuery,
    Profile,
)

ID_PREFIX = {
    "allergies": "alg",
    "treatments": "trt",
    "vaccinations": "vac",
    "conditions": "cnd",
    "measurements": "mea",
    "emergency_contacts": "ctc",
    "trusted_person": "tru",
}
ADVANCE_DIRECTIVES = "advance_directives"


def kind_of(section: str) -> str:
    return MEASUREMENT if section == "measurements" else PROFILE


def public(section: str, item: dict) -> Any:
    """The API shape of a stored entry."""
    fields = {
        k: v for k, v in item.items() if k not in ("pk", "sk", "author_role", "author_id", "section", "patient_id")
    }
    return RESPONSES[section](**fields, author={"role": item["author_role"], "id": item["author_id"]})


def _read_action(granted: Authorized, fallback: str) -> str:
    return "app.read" if granted.actor.role == "app" else fallback


def _record(granted: Authorized, action: str, resource: str | None, with_items: list[dict] | None = None) -> None:
    journal.commit(
        granted.space.patient_id,
        granted.actor_ref,
        action,
        resource,
        writes=with_items or [],
    )


# --- writes -------------------------------------------------------------------------------------
def add(principal: Principal, patient_id: str, section: str, request: BaseModel) -> Any:
    granted = authorize(principal, patient_id, CREATE, Resource(kind=kind_of(section)))
    item: dict[str, Any] = {
        "entry_id": new_sortable_id(ID_PREFIX[section]),
        "recorded_at": clock.iso(clock.now()),
        "author_role": granted.actor.role,
        "author_id": granted.actor.id,
    }
    for name, value in request.model_dump(mode="json", exclude_none=True).items():
        item[name] = value
    if isinstance(request, MeasurementCreate):
        item["measured_at"] = clock.iso(request.measured_at)
        items = store.put_measurement_items(patient_id, item)
        action = "measurement.created"
    else:
        item["section"] = section
        items = store.put_entry_items(patient_id, section, item, section in SINGLE_SECTIONS)
        action = "profile.created"
    try:
        _record(granted, action, item["entry_id"], items)
    except journal.StateChanged:  # only a section of one entry has a condition a concurrent add breaks
        raise Conflict(f"There is already a {section.replace('_', ' ')}: remove it first.") from None
    return public(section, item)


def remove(principal: Principal, patient_id: str, section: str, entry_id: str) -> None:
    if section not in SECTIONS:
        raise NotFound(f"No such profile section: use one of {', '.join(SECTIONS)}.")
    granted = authorize(principal, patient_id, DELETE, Resource(kind=kind_of(section)))
    if section == "measurements":
        sk = store.measurement_sk_of(patient_id, entry_id)
        if sk is None:
            raise NotFound("No such entry.")
        items, action = store.delete_measurement_items(patient_id, entry_id, sk), "measurement.deleted"
    else:
        single = section in SINGLE_SECTIONS
        items, action = store.delete_entry_items(patient_id, section, entry_id, single), "profile.deleted"
    try:
        _record(granted, action, entry_id, items)
    except journal.StateChanged:
        raise NotFound("No such entry.") from None


# --- reads --------------------------------------------------------------------------------------
def _sections(items: list[dict]) -> dict[str, Any]:
    """Stored entries by section, in the API's shape; a section of one entry as that entry or None."""
    sections: dict[str, Any] = {name: [] for name in SECTIONS}
    for item in items:
        sections[item["section"]].append(public(item["section"], item))
    for name in SINGLE_SECTIONS:
        sections[name] = next(iter(sections[name]), None)
    return sections


def profile(principal: Principal, patient_id: str) -> Profile:
    """Every entry of every section, and the latest measurement of each kind the caller may read."""
    granted = authorize(principal, patient_id, READ, Resource(kind=PROFILE))
    sections = _sections(store.entries(patient_id))
    if decide(granted.actor, granted.space, READ, Resource(kind=MEASUREMENT), clock.now()).allowed:
        # One query per kind, side by side: one round trip instead of six in a row.
        for latest in concurrency.map_concurrently(lambda kind: store.latest_measurement(patient_id, kind), UNITS):
            if latest:
                sections["measurements"].append(public("measurements", latest))
    _record(granted, _read_action(granted, "profile.read"), "profile")
    return Profile(**sections)


def emergency_summary(principal: Principal, patient_id: str) -> EmergencySummary:
    """Allergies, treatments, conditions, vaccinations, the people to call, the trusted person and the
    latest advance directives the caller may read, in one request: the space (the decision), the
    profile's entries (one query) and the directives (a key of the documents' type index) read side
    by side, then, for a professional, the read recorded (``emergency_summary.read``)."""
    granted = authorize(principal, patient_id, READ, Resource(kind=EMERGENCY_SUMMARY))
    now = clock.now()

    def directives() -> dict | None:
        return documents.latest_readable(granted.actor, granted.space, now, ADVANCE_DIRECTIVES)

    def entries() -> list[dict]:
        return store.entries(patient_id)

    reads: list[Callable[[], Any]] = [entries, directives]
    items, latest = concurrency.map_concurrently(lambda read: read(), reads)
    sections = _sections(items)
    if granted.actor.role == PROFESSIONAL:
        _record(granted, "emergency_summary.read", "emergency_summary")
    return EmergencySummary(
        **{name: sections[name] for name in EmergencySummary.model_fields if name in sections},
        advance_directives=AdvanceDirectives(document_id=latest["document_id"], date=latest["date"])
        if latest
        else None,
    )


def series(principal: Principal, patient_id: str, query: MeasurementQuery) -> MeasurementPage:
    """Measurements over a period, oldest first: one kind's (a Query on the sort key range) or
    every kind's (a Query on the index, by time)."""
    granted = authorize(principal, patient_id, READ, Resource(kind=MEASUREMENT))
    list_scope = scope(
        "measurements", principal, patient_id=patient_id, kind=query.kind, from_=query.from_, to=query.to
    )
    start_key = decode_cursor(query.cursor, list_scope)
    start = clock.iso(query.from_) if query.from_ else None
    end = clock.iso(query.to) if query.to else None
    items, last_key = store.series(patient_id, query.kind, start, end, query.limit, start_key)
    _record(granted, _read_action(granted, "measurement.read"), f"measurements:{query.kind or 'all'}")
    return MeasurementPage(
        items=[public("measurements", item) for item in items], next_cursor=encode_cursor(last_key, list_scope)
    )


@dataclass(frozen=True)
class Search:
    """A FHIR Observation search: each filter None when absent; [since, until) ISO timestamps."""

    kind: str | None = None
    unit: str | None = None
    since: str | None = None
    until: str | None = None
    newest_first: bool = True
    count: int = 50
    cursor: str | None = None
    total: bool = False  # counted on every page (FHIR's _total=accurate), not only when it fits one


@dataclass
class Found:
    measurements: list[Any]  # models.Measurement
    total: int | None
    next_cursor: str | None


def search(principal: Principal, patient_id: str, search: Search) -> Found:
    """A page of measurements, read from one key range a page at a time (its cost does not grow with
    the series); ``total`` when the page holds them all, or when asked."""
    granted = authorize(principal, patient_id, READ, Resource(kind=MEASUREMENT))
    filters = {name: getattr(search, name) for name in ("kind", "unit", "since", "until", "newest_first")}
    list_scope = scope("fhir.measurements", principal, patient_id=patient_id, **filters)
    start_key = decode_cursor(search.cursor, list_scope)
    period = (search.since, search.until)
    items, next_key = store.search_page(
        patient_id, search.kind, search.unit, period, search.count, start_key, search.newest_first
    )
    total: int | None = None
    if next_key is None and start_key is None:
        total = len(items)
    elif search.total:
        total = store.count(patient_id, search.kind, search.unit, period)
    _record(granted, _read_action(granted, "measurement.read"), f"measurements:{search.kind or 'all'}")
    return Found([public("measurements", item) for item in items], total, encode_cursor(next_key, list_scope))


def purge_space(patient_id: str, actor: ActorRef) -> int:
    """Closure with immediate deletion: every profile entry and measurement."""
    items = purge.space_items(patient_id, store.owned_prefixes(), store.TABLE)
    purge.delete(items, store.TABLE)
    journal.record(patient_id, actor, "space.purged", f"profile: {len(items)} items")
    return len(items)
