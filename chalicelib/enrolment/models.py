from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.core.fields import Ins

STATUSES = ("invited", "active", "auto_created", "opposed", "closed")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CampaignCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    response_days: int = Field(40, ge=1, le=120, description="Days a person has to activate or oppose.")
    reminder_days_before: int = Field(10, ge=0, le=119, description="Days before the deadline the reminder goes out.")

    @model_validator(mode="after")
    def reminder_inside_window(self) -> "CampaignCreate":
        if self.reminder_days_before >= self.response_days:
            raise ValueError("reminder_days_before must be smaller than response_days")
        return self


class Counts(BaseModel):
    invited: int = 0
    active: int = 0
    auto_created: int = 0
    opposed: int = 0
    closed: int = 0


class Campaign(BaseModel):
    campaign_id: str
    name: str
    response_days: int
    reminder_days_before: int
    created_at: str


class CampaignWithCounts(Campaign):
    counts: Counts


class Invitee(Strict):
    ins: Ins
    family_name: str = Field(min_length=1, max_length=200)
    given_names: str = Field(min_length=1, max_length=200)
    birth_date: date
    email: str | None = Field(None, max_length=254)
    postal_address: str | None = Field(None, min_length=5, max_length=500)

    @field_validator("birth_date")
    @classmethod
    def not_in_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("birth_date cannot be in the future")
        return value

    @field_validator("email")
    @classmethod
    def email_shape(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError("email must look like name@domain.tld")
        return value

    @model_validator(mode="after")
    def reachable(self) -> "Invitee":
        if not self.email and not self.postal_address:
            raise ValueError("give an email or a postal_address so the person can be told")
        return self


class InvitationsRequest(Strict):
    # Items stay plain objects here: each is validated on its own so that one bad row is listed in
    # `rejected` instead of failing the whole call. The schema still documents them as Invitees.
    invitees: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=500,
        description="1 to 500 people; each is checked on its own and listed in rejected if invalid.",
        json_schema_extra={"items": Invitee.model_json_schema()},
    )
    deadline: datetime | None = Field(None, description="Defaults to now + the campaign's response_days; must be in the future.")


class ItemError(BaseModel):
    code: str
    message: str


class Rejected(BaseModel):
    index: int
    error: ItemError


class InvitationsResult(BaseModel):
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


class Activated(BaseModel):
    patient_id: str
    status: Literal["active"]


class StatusOnly(BaseModel):
    status: str


class Me(BaseModel):
    patient_id: str
    status: str
    family_name: str
    given_names: str
    birth_date: str
    deadline: str | None = None


class CloseRequest(Strict):
    delete_now: bool = False
