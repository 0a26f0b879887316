"""What other modules may ask of the profile module, and nothing more: the export reads every
entry and measurement of a space (its caller's right to is decided by the export)."""

from __future__ import annotations

from chalicelib.profile import store
from chalicelib.profile.models import HEALTH_SECTIONS


def entries(patient_id: str) -> list[dict]:
    """Every allergy, treatment, vaccination and condition, by section then creation."""
    return [item for item in store.entries(patient_id) if item["section"] in HEALTH_SECTIONS]


def measurements(patient_id: str) -> list[dict]:
    """Every measurement, by kind then time."""
    return store.all_measurements(patient_id)
