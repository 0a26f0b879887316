from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.core import clock
from chalicelib.core.http.fields import Ins, UtcMoment
from chalicelib.core.http.pagination import Page
from chalicelib.core.models import Model, Strict

STATUSES = ("invited", "active", "auto_created", "opposed", "closed")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CampaignCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    response_days: int = Field(40, ge=1, le=120, description="Days a person has to activate or oppose.")
    reminder_days_before: int = Field(10, ge=0, le=119, description="Days before the deadline the reminder goes out.")

    @model_validator(mode="after")
    def reminder_inside_window(self) -> CampaignCreate:
        if self.reminder_days_before >= self.response_days:
            raise ValueError("reminder_days_before must be smaller than response_days")
        return self


class Counts(Model):
    invited: int = 0
    active: int = 0
    auto_created: int = 0
    opposed: int = 0
    closed: int = 0


class Campaign(Model):
    campaign_id: str
    name: str
    response_days: int
    reminder_days_before: int
    created_at: str


class CampaignWithCounts(Campaign):
    counts: Counts


def _today() -> date:
    return clock.now().date()  # UTC


def _minor(birth_date: date) -> bool:
    """Under 18 on the day of the call: the access policy's rule. The policy loads with the first
    body that holds a birth date to check, not with every first request of the function."""
    from chalicelib.core.policy.decision import is_minor

    return is_minor(birth_date, _today())


class Identity(Strict):
    ins: Ins
    family_name: str = Field(min_length=1, max_length=200)
    given_names: str = Field(min_length=1, max_length=200)
    birth_date: date

    @field_validator("birth_date")
    @classmethod
    def not_in_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("birth_date cannot be in the future")
        return value

    @property
    def minor(self) -> bool:
        return _minor(self.birth_date)


class AdultIdentity(Identity):
    """A representative, a guardian or a caregiver: an adult on the day of the call."""

    @model_validator(mode="after")
    def adult(self) -> AdultIdentity:
        if self.minor:
            raise ValueError("a legal representative, guardian or caregiver must be 18 or over")
        return self


def _email_shape(value: str | None) -> str | None:
    if value is not None and not EMAIL.match(value):
        raise ValueError("email must look like name@domain.tld")
    return value


class Reachable(Strict):
    email: str | None = Field(None, max_length=254)
    postal_address: str | None = Field(None, min_length=5, max_length=500)

    @field_validator("email")
    @classmethod
    def email_shape(cls, value: str | None) -> str | None:
        return _email_shape(value)

    def check_reachable(self) -> None:
        if not self.email and not self.postal_address:
            raise ValueError("give an email or a postal_address so the person can be told")


class Representative(Reachable, AdultIdentity):
    """A minor's legal representative: receives the minor's notices and manages the space."""

    @model_validator(mode="after")
    def reachable(self) -> Representative:
        self.check_reachable()
        return self


class Invitee(Reachable, Identity):
    representatives: list[Representative] | None = Field(
        None,
        min_length=1,
        max_length=2,
        description="Required for a person under 18 on the day of the call, and only then: 1 or 2 adults. The notices "
        "(with the code) go to each of them, never to the child; they manage the space until the 18th birthday.",
    )

    @model_validator(mode="after")
    def reachable(self) -> Invitee:
        if not self.minor:
            if self.representatives:
                raise ValueError("representatives are for minors only: record a guardianship for a protected adult")
            self.check_reachable()
            return self
        if not self.representatives:
            raise ValueError("a person under 18 needs 1 or 2 legal representatives (representatives)")
        named = [self.ins, *(r.ins for r in self.representatives)]
        if len(set(named)) != len(named):
            raise ValueError("the child and each legal representative must be different people (INS)")
        return self


def _inlined(schema: dict) -> dict:
    """A model's JSON schema with its nested models written in place (its ``$defs`` references
    would not resolve once embedded in another schema)."""
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            name = node.get("$ref", "").removeprefix("#/$defs/")
            return inline(definitions[name]) if name in definitions else {k: inline(v) for k, v in node.items()}
        return [inline(v) for v in node] if isinstance(node, list) else node

    return inline(schema)


def _invitee_items(schema: dict) -> None:
    """Documents the items as Invitees, when the schema is asked for (the OpenAPI document), not
    when this module is imported: no request needs it."""
    schema["items"] = _inlined(Invitee.model_json_schema())


class InvitationsRequest(Strict):
    # Items stay plain objects here: each is validated on its own so that one bad row is listed in
    # `rejected` instead of failing the whole call. The schema still documents them as Invitees.
    invitees: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=500,
        description="1 to 500 people; each is checked on its own and listed in rejected if invalid.",
        json_schema_extra=_invitee_items,
    )
    deadline: UtcMoment | None = Field(
        None, description="Defaults to now + the campaign's response_days; must be in the future."
    )


class ItemError(Model):
    code: str
    message: str


class Rejected(Model):
    index: int
    error: ItemError


class InvitationsResult(Model):
    cohort_id: str
    deadline: str
    accepted: int
    rejected: list[Rejected]


class CodeAnswer(Strict):
    ins: Ins
    birth_date: date
    code: str = Field(min_length=1, max_length=64)


class AgentOpposition(Strict):
    ins: Ins
    birth_date: date
    channel: Literal["phone", "in_person", "mail"]


class Activated(Model):
    patient_id: str
    status: Literal["active"]


class StatusOnly(Model):
    status: str


class Me(Model):
    patient_id: str
    status: str
    family_name: str
    given_names: str
    birth_date: str
    deadline: str | None = None


class CloseRequest(Strict):
    delete_now: bool = False


# --- families ------------------------------------------------------------------------------------
class Guardian(AdultIdentity):
    pass


class GuardianshipCreate(Strict):
    ins: Ins = Field(description="The protected adult's INS.")
    birth_date: date = Field(
        description="The protected adult's birth date (18 or over: a minor's space is the legal representatives')."
    )
    guardian: Guardian
    court_reference: str = Field(min_length=1, max_length=100, description="The judgment appointing the guardian.")
    until: date | None = Field(
        None,
        description="The day the guardianship ends (the guardian has no access from that day on); none: until ended.",
    )

    @model_validator(mode="after")
    def coherent(self) -> GuardianshipCreate:
        if _minor(self.birth_date):
            raise ValueError("guardianship is for adults: a minor's space is managed by their legal representatives")
        if self.until is not None and self.until <= _today():
            raise ValueError("until must be a day in the future")
        if self.guardian.ins == self.ins:
            raise ValueError("the guardian must be another person than the protected adult")
        return self


class Guardianship(Model):
    guardianship_id: str
    patient_id: str
    until: str | None = Field(description="The day the guardianship ends, or null.")


class Dependant(Model):
    patient_id: str
    family_name: str
    given_names: str
    birth_date: str
    status: str
    relationship: Literal["legal_representative", "guardian", "caregiver"]
    until: str | None = Field(
        None,
        description="The day the caller's access ends: "
        "the 18th birthday (legal representative), the guardianship's end date.",
    )


class DependantPage(Page[Dependant]):
    pass


# --- caregivers ----------------------------------------------------------------------------------
class CaregiverCreate(AdultIdentity):
    """The person an adult invites to help with their space (the caregiver gets the code by email)."""

    email: str = Field(max_length=254)

    @field_validator("email")
    @classmethod
    def email_shape(cls, value: str) -> str:
        return _email_shape(value) or value


class CaregiverInvitation(Model):
    caregiver_id: str
    status: Literal["invited"]
    family_name: str
    given_names: str
    invited_at: str
    expires_at: str = Field(description="The code is valid until then (7 days).")


class Caregiver(Model):
    caregiver_id: str
    status: Literal["invited", "active"]
    family_name: str
    given_names: str
    invited_at: str
    accepted_at: str | None = None


class CaregiverPage(Page[Caregiver]):
    pass


class CaregiverAnswer(Strict):
    code: str = Field(min_length=1, max_length=64, description="The code of the email (Code aidant).")


class CaregiverAccepted(Model):
    patient_id: str
    status: Literal["active"]
