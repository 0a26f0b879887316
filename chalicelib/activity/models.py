from __future__ import annotations

from chalicelib.core.http.pagination import Page
from chalicelib.core.models import ActorRef, Model


class ActivityEvent(Model):
    event_id: str
    at: str
    actor: ActorRef
    action: str
    resource: str | None = None


class ActivityPage(Page[ActivityEvent]):
    pass


class ChainCheck(Model):
    valid: bool
    events: int  # the checked events the caller may see
    signed: bool  # checked from the newest signed head, not from the genesis
