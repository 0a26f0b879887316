"""Health profile entries and measurements (docs/api.md § Health profile).

Validation is strict and names the field at fault: kinds and their UCUM units, plausible ranges,
blood pressure as ``{"systolic", "diastolic"}``, dates not in the future where that makes no
sense (a vaccination done, a condition's onset, a measurement taken), end ≥ start.
"""

from __future__ import annotations

import datetime as dt
import math
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from chalicelib.core import clock
from chalicelib.core.http.fields import Email, Phone, UtcMoment, not_before
from chalicelib.core.http.pagination import Page, PageQuery
from chalicelib.core.models import ActorRef, Model, Strict

SECTIONS = (
    "allergies",
    "treatments",
    "vaccinations",
    "conditions",
    "measurements",
    "emergency_contacts",
    "trusted_person",
)
HEALTH_SECTIONS = ("allergies", "treatments", "vaccinations", "conditions")
SINGLE_SECTIONS = frozenset({"trusted_person"})  # at most one entry (CSP L1111-6: one trusted person)
Kind = Literal["weight", "height", "heart_rate", "temperature", "glucose", "blood_pressure"]
Unit = Literal["kg", "cm", "/min", "Cel", "g/L", "mmol/L", "mm[Hg]"]

UNITS: dict[str, tuple[str, ...]] = {
    "weight": ("kg",),
    "height": ("cm",),
    "heart_rate": ("/min",),
    "temperature": ("Cel",),
    "glucose": ("g/L", "mmol/L"),
    "blood_pressure": ("mm[Hg]",),
}
# (kind, unit) -> plausible range, bounds included
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("weight", "kg"): (0.2, 500),
    ("height", "cm"): (20, 280),
    ("heart_rate", "/min"): (20, 300),
    ("temperature", "Cel"): (25, 45),
    ("glucose", "g/L"): (0.1, 10),
    ("glucose", "mmol/L"): (0.5, 55),
}
SYSTOLIC = (40, 300)
DIASTOLIC = (20, 200)
EARLIEST = date(1900, 1, 1)
CLOCK_SKEW = timedelta(minutes=5)


def _past_date(value: date | None) -> date | None:
    if value is None:
        return None
    if value > clock.latest_date():
        raise ValueError("cannot be in the future")
    if value < EARLIEST:
        raise ValueError(f"cannot be before {EARLIEST.isoformat()}")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number")
    return value


# --- bodies -------------------------------------------------------------------------------------
class AllergyCreate(Strict):
    substance: str = Field(min_length=1, max_length=200)
    reaction: str | None = Field(None, min_length=1, max_length=500)
    severity: Literal["mild", "moderate", "severe"] | None = None


class TreatmentCreate(Strict):
    medication: str = Field(min_length=1, max_length=200)
    dosage: str | None = Field(None, min_length=1, max_length=500)
    start_date: date | None = Field(None, description="May be in the future (a treatment planned).")
    end_date: date | None = Field(None, description="On or after start_date.")

    @field_validator("start_date", "end_date")
    @classmethod
    def plausible(cls, value: date | None) -> date | None:
        if value is not None and value < EARLIEST:
            raise ValueError(f"cannot be before {EARLIEST.isoformat()}")
        return value

    end_date_not_before_start = not_before(  # type: ignore[pydantic-field]  # a validator (core.http.fields)
        "end_date", "start_date", "must be on or after start_date"
    )


class VaccinationCreate(Strict):
    vaccine: str = Field(min_length=1, max_length=200)
    date: dt.date = Field(description="The day it was given: not in the future.")
    lot: str | None = Field(None, min_length=1, max_length=100)

    @field_validator("date")
    @classmethod
    def not_future(cls, value: dt.date) -> dt.date | None:
        return _past_date(value)


class ConditionCreate(Strict):
    label: str = Field(min_length=1, max_length=200)
    since: date | None = Field(None, description="Onset: not in the future.")
    status: Literal["active", "resolved"] | None = None

    @field_validator("since")
    @classmethod
    def not_future(cls, value: dt.date | None) -> dt.date | None:
        return _past_date(value)


class BloodPressureValue(Strict):
    systolic: float
    diastolic: float


class MeasurementCreate(Strict):
    kind: Kind
    unit: Unit = Field(
        description="weight kg, height cm, heart_rate /min, temperature Cel, glucose g/L or mmol/L, "
        "blood_pressure mm[Hg]."
    )
    value: float | BloodPressureValue = Field(description='A number; for blood_pressure {"systolic", "diastolic"}.')
    measured_at: UtcMoment = Field(description="When it was measured: not in the future.")
    device: str | None = Field(
        None, min_length=1, max_length=200, description="The device that took it (connected apps)."
    )

    @field_validator("unit")
    @classmethod
    def unit_of_kind(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is not None and value not in UNITS[kind]:
            raise ValueError(f"the unit of {kind} is {' or '.join(UNITS[kind])}")
        return value

    @field_validator("value", mode="before")
    @classmethod
    def value_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        kind, unit = info.data.get("kind"), info.data.get("unit")
        if kind == "blood_pressure":
            if not isinstance(value, dict) or set(value) != {"systolic", "diastolic"}:
                raise ValueError('blood_pressure takes {"systolic": number, "diastolic": number}')
            systolic, diastolic = _number(value["systolic"], "systolic"), _number(value["diastolic"], "diastolic")
            if not SYSTOLIC[0] <= systolic <= SYSTOLIC[1]:
                raise ValueError(f"systolic must be between {SYSTOLIC[0]} and {SYSTOLIC[1]} mm[Hg]")
            if not DIASTOLIC[0] <= diastolic <= DIASTOLIC[1]:
                raise ValueError(f"diastolic must be between {DIASTOLIC[0]} and {DIASTOLIC[1]} mm[Hg]")
            if diastolic >= systolic:
                raise ValueError("systolic must be higher than diastolic")
            return {"systolic": systolic, "diastolic": diastolic}
        number = _number(value, "value")
        bounds = RANGES.get((kind, unit)) if kind and unit else None
        if bounds and not bounds[0] <= number <= bounds[1]:
            raise ValueError(f"a {kind} in {unit} must be between {bounds[0]:g} and {bounds[1]:g}")
        return number

    @field_validator("measured_at")
    @classmethod
    def taken_in_the_past(cls, value: datetime) -> datetime:
        if value > clock.now() + CLOCK_SKEW:
            raise ValueError("cannot be in the future")
        if value.date() < EARLIEST:
            raise ValueError(f"cannot be before {EARLIEST.isoformat()}")
        return value


class EmergencyContactCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    relationship: str = Field(min_length=1, max_length=100, description="Who they are to the patient.")
    phone: Phone


class TrustedPersonCreate(Strict):
    """The personne de confiance (CSP L1111-6): at most one."""

    name: str = Field(min_length=1, max_length=200)
    phone: Phone | None = None
    email: Email | None = None


BODIES: dict[str, type[BaseModel]] = {
    "allergies": AllergyCreate,
    "treatments": TreatmentCreate,
    "vaccinations": VaccinationCreate,
    "conditions": ConditionCreate,
    "measurements": MeasurementCreate,
    "emergency_contacts": EmergencyContactCreate,
    "trusted_person": TrustedPersonCreate,
}


# --- responses ----------------------------------------------------------------------------------
class _Entry(Model):
    entry_id: str
    recorded_at: str
    author: ActorRef


class Allergy(_Entry):
    substance: str
    reaction: str | None = None
    severity: str | None = None


class Treatment(_Entry):
    medication: str
    dosage: str | None = None
    start_date: str | None = None
    end_date: str | None = None


class Vaccination(_Entry):
    vaccine: str
    date: str
    lot: str | None = None


class Condition(_Entry):
    label: str
    since: str | None = None
    status: str | None = None


class Measurement(_Entry):
    kind: str
    value: float | BloodPressureValue
    unit: str
    measured_at: str
    device: str | None = None


class EmergencyContact(_Entry):
    name: str
    relationship: str
    phone: str


class TrustedPerson(_Entry):
    name: str
    phone: str | None = None
    email: str | None = None


RESPONSES: dict[str, type[_Entry]] = {
    "allergies": Allergy,
    "treatments": Treatment,
    "vaccinations": Vaccination,
    "conditions": Condition,
    "measurements": Measurement,
    "emergency_contacts": EmergencyContact,
    "trusted_person": TrustedPerson,
}


class Profile(Model):
    allergies: list[Allergy]
    treatments: list[Treatment]
    vaccinations: list[Vaccination]
    conditions: list[Condition]
    measurements: list[Measurement] = Field(
        description="The latest measurement of each kind; the series are at /profile/measurements."
    )
    emergency_contacts: list[EmergencyContact] = Field(default_factory=list, description="People to call.")
    trusted_person: TrustedPerson | None = Field(None, description="The personne de confiance, if named.")


class AdvanceDirectives(Model):
    document_id: str
    date: str


class EmergencySummary(Model):
    """What matters first in an emergency, in one call (docs/domain.md § Emergency pathway)."""

    allergies: list[Allergy]
    treatments: list[Treatment]
    conditions: list[Condition]
    vaccinations: list[Vaccination]
    emergency_contacts: list[EmergencyContact]
    trusted_person: TrustedPerson | None
    advance_directives: AdvanceDirectives | None = Field(
        description="The latest advance directives document the caller may read (a document_id for "
        "GET …/documents/{document_id}), or null."
    )


class MeasurementQuery(PageQuery):
    kind: Kind | None = Field(
        None, description="One kind's series; without it, every kind's measurements together, oldest first."
    )
    from_: UtcMoment | None = Field(None, alias="from", description="Start of the period (included).")
    to: UtcMoment | None = Field(None, description="End of the period (included).")

    to_not_before_from = not_before(  # type: ignore[pydantic-field]  # a validator (core.http.fields)
        "to", "from_", "must be on or after from"
    )


class MeasurementPage(Page[Measurement]):
    pass
