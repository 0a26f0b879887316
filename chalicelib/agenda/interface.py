"""What other modules may ask of the agenda module, and nothing more: the FHIR module books, updates
and cancels appointments sent by booking services and hospital agendas, each the native agenda's
event (``kind: appointment``), through the agenda's own rules (the access decision, the history,
the reminders, the .ics)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.core.security.auth import Principal


def event_request(fields: dict) -> Any:
    """An event's fields as the native API's request (models.EventCreate); pydantic's
    ValidationError when they do not hold."""
    from chalicelib.agenda.models import EventCreate

    return EventCreate.model_validate(fields)


def book(principal: Principal, patient_id: str, identifier: str, request: Any | None) -> tuple[Any, bool]:
    """One event per booking identifier (``system|value``): created, updated, or removed when
    ``request`` is None (cancelled). (models.AgendaEvent or None, whether it was created)."""
    from chalicelib.agenda import service

    return service.book(principal, patient_id, identifier, request)
