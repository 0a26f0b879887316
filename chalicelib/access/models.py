"""Bodies and responses of the access endpoints (docs/api.md § Patients, access and activity)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from chalicelib.core.http.fields import Ins, Rpps, UtcMoment
from chalicelib.core.models import Model, Strict


# --- professional: search, emergency access ------------------------------------------------------
class SearchRequest(Strict):
    ins: Ins
    birth_date: date


class SearchResult(Model):
    patient_id: str
    status: str
    can_read: bool = Field(
        description="May consult the record in general now (grant, treating doctor or emergency session); "
        "the profession x document type matrix and masking still apply per document."
    )
    can_deposit: bool = Field(description="May deposit documents in this space.")
    minor: bool = Field(
        description="The holder is under 18 today: the space is managed by their legal representatives; "
        "a document may be hidden from them (hidden_from_representatives)."
    )
    caregiver: bool = Field(description="A caregiver (proche aidant) helps the patient with their space.")


class EmergencyRequest(Strict):
    reason: str = Field(
        min_length=10,
        max_length=1000,
        description="Why the record must be opened in emergency (at least 10 characters).",
    )


class EmergencySession(Model):
    expires_at: str = Field(description="The end of the read access (break-glass 4 hours, regulation 1 hour).")


# --- patient: access settings ------------------------------------------------------------------
class GrantRequest(Strict):
    expires_at: UtcMoment | None = Field(
        None, description="End of the grant (must be in the future); none: until revoked."
    )


class Grant(Model):
    rpps: str
    granted_at: str
    expires_at: str | None = None


class Block(Model):
    rpps: str
    blocked_at: str


class TreatingDoctor(Strict):
    rpps: Rpps


class TreatingDoctorOut(Model):
    rpps: str


class EmergencySetting(Strict):
    allowed: bool


class EmergencySettingOut(Model):
    emergency_access_allowed: bool


class RegulationSettingOut(Model):
    regulation_access_allowed: bool


class OpenEmergencySession(Model):
    rpps: str
    opened_at: str
    expires_at: str


class AccessSettings(Model):
    grants: list[Grant] = Field(description="Grants in force (expired ones are not listed).")
    blocked: list[Block]
    treating_doctor: TreatingDoctorOut | None
    emergency_access_allowed: bool
    emergency_sessions: list[OpenEmergencySession] = Field(
        default_factory=list, description="Emergency sessions still open (added field)."
    )
    regulation_access_allowed: bool = Field(
        True, description="The SAMU regulator doctors may open a 1-hour read access (a choice apart from emergency)."
    )
    regulation_sessions: list[OpenEmergencySession] = Field(
        default_factory=list, description="Regulator doctors' sessions still open."
    )
