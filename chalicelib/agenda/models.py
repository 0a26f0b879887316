from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, field_validator

from chalicelib.core.http.fields import AwareUtcMoment, not_before
from chalicelib.core.http.pagination import Page, PageQuery
from chalicelib.core.models import ActorRef, Model, Strict

Kind = Literal["appointment", "hospitalisation", "vaccination_reminder", "exam_reminder"]
_MOMENT = "A date and time with its time zone, e.g. 2026-01-31T09:30:00Z or 2026-01-31T10:30:00+01:00; stored in UTC."


def _to_the_second(value: datetime) -> datetime:
    """The wire's precision."""
    return value.replace(microsecond=0)


Moment = Annotated[AwareUtcMoment, AfterValidator(_to_the_second)]


class EventCreate(Strict):
    kind: Kind
    title: str = Field(min_length=1, max_length=200)
    start: Moment = Field(description=_MOMENT)
    end: Moment | None = Field(None, description=_MOMENT + " Not before start.")
    location: str | None = Field(None, min_length=1, max_length=300)
    professional_name: str | None = Field(None, min_length=1, max_length=200)

    end_not_before_start = not_before(  # type: ignore[pydantic-field]  # a validator (core.http.fields)
        "end", "start", "the end cannot be before the start"
    )


class EventPatch(Strict):
    """Only the fields sent change; ``end``, ``location`` and ``professional_name`` sent as null are removed."""

    kind: Kind | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    start: Moment | None = Field(None, description=_MOMENT)
    end: Moment | None = Field(None, description=_MOMENT + " Not before start.")
    location: str | None = Field(None, min_length=1, max_length=300)
    professional_name: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("kind", "title", "start")
    @classmethod
    def not_null(cls, value):
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep it")
        return value


class AgendaQuery(PageQuery):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: AwareUtcMoment | None = Field(
        None, alias="from", description="Events starting at or after this moment (default: now)."
    )
    to: AwareUtcMoment | None = Field(None, description="Events starting at or before this moment.")

    to_not_before_from = not_before(  # type: ignore[pydantic-field]  # a validator (core.http.fields)
        "to", "from_", "'to' cannot be before 'from'"
    )


class AgendaEvent(Model):
    event_id: str
    kind: str
    title: str
    start: str
    end: str | None = None
    location: str | None = None
    professional_name: str | None = None
    author: ActorRef
    created_at: str
    updated_at: str


class AgendaPage(Page[AgendaEvent]):
    pass
