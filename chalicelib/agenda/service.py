"""The health agenda (docs/domain.md § Four modules; docs/api.md § Agenda).

Events are pushed by the patient, by professionals with read access (grant, treating doctor,
emergency session) and by apps with ``agenda:write``; the access policy decides every call, on
the event's author for updates and deletions (the patient, the professional who wrote it, an
app with ``agenda:write``). Each change and its history event (``agenda.created``,
``agenda.updated``, ``agenda.deleted``: the event id only) are one transaction. Times are UTC.

Reminders: an hourly schedule finds, in a per-hour index, the events starting within 24 hours
and sends each one reminder. The reminder marker (``reminded_at``) is a conditional write made
in the same transaction as its history event, before the email: two runs that overlap or fire
twice both see the event, one wins the condition, only that one sends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.agenda import notices, store
from chalicelib.agenda.models import AgendaEvent, AgendaPage, AgendaQuery, EventCreate, EventPatch
from chalicelib.core import clock, logs
from chalicelib.core.data import layout, purge, spaces
from chalicelib.core.errors import Conflict, InvalidRequest, NotFound
from chalicelib.core.history import journal
from chalicelib.core.http.api import Raw
from chalicelib.core.http.pagination import decode_cursor, encode_cursor, scope
from chalicelib.core.ids import new_id
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import CREATE, DELETE, READ, UPDATE, Resource
from chalicelib.core.policy.gate import Authorized, authorize, check, load_space
from chalicelib.core.policy.notify import notify_space
from chalicelib.core.security.auth import Principal

AGENDA = Resource(kind="agenda")
REMINDER = ActorRef(role="system", id="agenda-reminders")
REMIND_WITHIN = timedelta(hours=24)
NO_EVENT = "No such agenda event."
OPTIONAL = ("end", "location", "professional_name")


def _resource(item: dict) -> Resource:
    return Resource(kind="agenda", author=(item["author_role"], item["author_id"]))


def _public(item: dict) -> AgendaEvent:
    return AgendaEvent(
        event_id=item["event_id"],
        kind=item["kind"],
        title=item["title"],
        start=item["start"],
        end=item.get("end"),
        location=item.get("location"),
        professional_name=item.get("professional_name"),
        author=ActorRef(role=item["author_role"], id=item["author_id"]),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
    )


def _record(granted: Authorized, action: str, event_id: str, items: list[dict]) -> None:
    try:
        journal.commit(
            granted.space.patient_id,
            granted.actor_ref,
            action,
            event_id,
            writes=items,
        )
    except journal.StateChanged:
        raise Conflict("This agenda event changed in the meantime; reload it and try again.") from None


def create(principal: Principal, patient_id: str, request: EventCreate) -> AgendaEvent:
    granted = authorize(principal, patient_id, CREATE, AGENDA)
    now = clock.now()
    item = _new_item(granted, new_id("agd"), request, now)
    stored = store.with_keys(item, now)
    _record(granted, "agenda.created", item["event_id"], store.put_new(stored))
    return _public(stored)


def _new_item(granted: Authorized, event_id: str, request: EventCreate, now: datetime) -> dict:
    return {
        "patient_id": granted.space.patient_id,
        "event_id": event_id,
        "kind": request.kind,
        "title": request.title,
        "start": clock.iso(request.start),
        "end": clock.iso(request.end) if request.end else None,
        "location": request.location,
        "professional_name": request.professional_name,
        "author_role": granted.actor.role,
        "author_id": granted.actor.id,
        "created_at": clock.iso(now),
        "updated_at": clock.iso(now),
    }


def book(principal: Principal, patient_id: str, identifier: str, request: EventCreate | None) -> tuple[Any, bool]:
    """A booking from outside (FHIR Appointment, by its ``system|value`` identifier): one event per
    identifier, created, updated or, with ``request`` None (cancelled), removed from the agenda.
    Returns (the event, None once cancelled; whether it was created). Race-safe: the identifier's
    marker is written or changed in the event's own transaction, on condition of what was read."""
    for _ in range(2):  # a first sending racing another: the loser reads the winner's marker once
        try:
            return _book(principal, patient_id, identifier, request)
        except journal.StateChanged:
            continue
    raise Conflict("This appointment changed in the meantime; send it again.")


def _book(principal: Principal, patient_id: str, identifier: str, request: EventCreate | None) -> tuple[Any, bool]:
    items = load_space(patient_id)
    marker = store.booking(patient_id, identifier)
    old = store.find(patient_id, marker["event_id"]) if marker else None
    if old is None:
        granted = check(principal, items, CREATE, AGENDA)
        if request is None:
            if marker is None:
                raise NotFound("No appointment with this identifier to cancel.")
            return None, False  # cancelled already
        now = clock.now()
        event_id = marker["event_id"] if marker else new_id("agd")
        stored = store.with_keys(_new_item(granted, event_id, request, now), now)
        kept = store.booking_state(patient_id, identifier, marker, False) if marker else None
        writes = [*store.put_new(stored), kept or store.new_booking(patient_id, identifier, event_id)]
        journal.commit(patient_id, granted.actor_ref, "agenda.created", event_id, writes=writes)
        return _public(stored), marker is None
    granted = check(principal, items, DELETE if request is None else UPDATE, _resource(old))
    event_id = old["event_id"]
    if request is None:
        writes = [*store.delete(old), store.booking_state(patient_id, identifier, marker or {}, True)]
        journal.commit(patient_id, granted.actor_ref, "agenda.deleted", event_id, writes=writes)
        return None, False
    now = clock.now()
    new = {**_new_item(granted, event_id, request, now), "created_at": old["created_at"]}
    if new["start"] == old["start"] and "reminded_at" in old:
        new["reminded_at"] = old["reminded_at"]  # not moved: reminded once already
    if new["updated_at"] == old["updated_at"]:  # the optimistic check needs a new value
        new["updated_at"] = clock.iso(now + timedelta(seconds=1))
    stored = store.with_keys(new, now)
    journal.commit(patient_id, granted.actor_ref, "agenda.updated", event_id, writes=store.replace(old, stored))
    return _public(stored), False


def list_events(principal: Principal, patient_id: str, query: AgendaQuery) -> AgendaPage:
    granted = authorize(principal, patient_id, READ, AGENDA)
    list_scope = scope("agenda", principal, patient_id=patient_id, from_=query.from_, to=query.to)
    start_key = decode_cursor(query.cursor, list_scope)
    low = clock.iso(query.from_ or clock.now())
    high = clock.iso(query.to) if query.to else None
    items, last_key = store.page(granted.space.patient_id, low, high, query.limit, start_key)
    _record_read(granted, "agenda.listed")
    return AgendaPage(items=[_public(item) for item in items], next_cursor=encode_cursor(last_key, list_scope))


def _record_read(granted: Authorized, action: str) -> None:
    """Reads by a professional or an app go in the patient's history; the patient's own reads of
    their agenda (a calendar client polls the feed) would only bury the rest."""
    if granted.actor.role != "patient":
        journal.record(granted.space.patient_id, granted.actor_ref, action)


def _find(principal: Principal, patient_id: str, event_id: str, action: str) -> tuple[Authorized, dict]:
    items = load_space(patient_id)
    item = store.find(patient_id, event_id)
    if item is None:
        check(principal, items, CREATE, AGENDA)  # 404 only to whoever may write here; others get the policy's answer
        raise NotFound(NO_EVENT)
    return check(principal, items, action, _resource(item)), item


def update(principal: Principal, patient_id: str, event_id: str, request: EventPatch) -> AgendaEvent:
    changes = request.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidRequest("Nothing to change: send at least one field.")
    granted, old = _find(principal, patient_id, event_id, UPDATE)
    now = clock.now()
    new = {k: v for k, v in old.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")}
    for name, value in changes.items():
        if isinstance(value, datetime):
            value = clock.iso(value)
        if value is None:
            new.pop(name, None)
        else:
            new[name] = value
    if "end" in new and new["end"] < new["start"]:
        raise InvalidRequest(
            "The end cannot be before the start.", [{"field": "end", "message": "Must not be before start."}]
        )
    if new["start"] != old["start"]:
        new.pop("reminded_at", None)  # moved: it will be reminded for its new date
    new["updated_at"] = clock.iso(now)
    if new["updated_at"] == old["updated_at"]:  # the optimistic check needs a new value
        new["updated_at"] = clock.iso(now + timedelta(seconds=1))
    stored = store.with_keys(new, now)
    _record(granted, "agenda.updated", event_id, store.replace(old, stored))
    return _public(stored)


def delete(principal: Principal, patient_id: str, event_id: str) -> None:
    granted, old = _find(principal, patient_id, event_id, DELETE)
    _record(granted, "agenda.deleted", event_id, store.delete(old))


def ics(principal: Principal, patient_id: str) -> Raw:
    """Every event of the agenda as an RFC 5545 calendar, times in UTC."""
    from icalendar import Calendar, Event

    granted = authorize(principal, patient_id, READ, AGENDA)
    calendar = Calendar()
    calendar.add("prodid", "-//Mon espace santé//Agenda//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Mon espace santé")
    for item in store.all_of(granted.space.patient_id):
        event = Event()
        event.add("uid", f"{item['event_id']}@monespacesante.fr")
        event.add("dtstamp", clock.parse_iso(item["updated_at"]))
        event.add("created", clock.parse_iso(item["created_at"]))
        event.add("last-modified", clock.parse_iso(item["updated_at"]))
        event.add("dtstart", clock.parse_iso(item["start"]))
        if item.get("end"):
            event.add("dtend", clock.parse_iso(item["end"]))
        event.add("summary", item["title"])
        event.add("categories", [item["kind"]])
        if item.get("location"):
            event.add("location", item["location"])
        if item.get("professional_name"):
            event.add("description", f"Professionnel : {item['professional_name']}")
        calendar.add_component(event)
    _record_read(granted, "agenda.exported")
    return Raw(body=calendar.to_ical().decode("utf-8"), content_type="text/calendar; charset=utf-8")


# --- reminders ----------------------------------------------------------------------------------


def send_reminders(now: datetime | None = None) -> int:
    """Scheduled (hourly): one reminder per event starting within the next 24 hours."""
    now = now or clock.now()
    low, high = clock.iso(now), clock.iso(now + REMIND_WITHIN)
    sent = 0
    for hours in range(0, 25):
        bucket = store.reminder_bucket(now + timedelta(hours=hours))
        for item in store.due(bucket, low, high):
            try:
                sent += remind(item, now)
            except Exception:  # noqa: BLE001 - one failure must not stop the others
                logs.error("agenda reminder failed", exc_info=True)
    logs.info("agenda reminders sent", sent=sent)
    return sent


def remind(item: dict, now: datetime) -> bool:
    """Claims the event's reminder (conditional write + history event), then emails the patient (a
    minor's representatives).
    False when another run claimed it first, or when the space is not open any more."""
    patient_id = item["patient_id"]
    account = spaces.get_account(patient_id)
    if account is None or account.get("status") not in layout.OPEN_STATUSES:
        return False
    try:
        journal.commit(
            patient_id,
            REMINDER,
            "agenda.reminded",
            item["event_id"],
            writes=[store.claim_reminder(item, clock.iso(now))],
        )
    except journal.StateChanged:
        return False  # already reminded (another run), moved or deleted meanwhile
    channels = notify_space(
        account,
        *notices.reminder(clock.parse_iso(item["start"])),
        purpose="agenda_reminder",
        today=now.date(),
        letters=False,
    )
    return "email" in channels


def purge_space(patient_id: str, actor: ActorRef) -> int:
    """Closure with immediate deletion: every agenda event."""
    items = purge.space_items(patient_id, store.OWNED_PREFIXES, store.TABLE)
    purge.delete(items, store.TABLE)
    journal.record(patient_id, actor, "space.purged", f"agenda: {len(items)} items")
    return len(items)
