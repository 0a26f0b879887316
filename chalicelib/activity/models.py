from __future__ import annotations

from pydantic import BaseModel

from chalicelib.core.history import ActorRef
from chalicelib.core.pagination import Page


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
