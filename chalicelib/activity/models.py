from __future__ import annotations

from pydantic import BaseModel

from chalicelib.core.pagination import Page


class ActorRef(BaseModel):
    role: str
    id: str


class ActivityEvent(BaseModel):
    event_id: str
    at: str
    actor: ActorRef
    action: str
    resource: str | None = None


class ActivityPage(Page[ActivityEvent]):
    pass


class ChainCheck(BaseModel):
    valid: bool
    events: int
