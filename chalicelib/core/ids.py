"""Opaque identifiers: random, URL-safe, meaning nothing about the person they name; made of
letters, digits and "-" only, so that each is also a valid FHIR id (a document_id is its
DocumentReference's id, a patient_id its Patient's: docs/api.md § FHIR interface)."""

from __future__ import annotations

import secrets
import time
from datetime import datetime


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(16).replace('-', 'x').replace('_', 'y')}"


def new_sortable_id(prefix: str, at: datetime | None = None) -> str:
    """Random like ``new_id`` but ordered by creation time (milliseconds first), for newest-first
    lists; ``at`` places it at another moment (a legacy document, at its original date)."""
    millis = int((at.timestamp() if at else time.time()) * 1000)
    return f"{prefix}-{millis:012x}{secrets.token_hex(8)}"
