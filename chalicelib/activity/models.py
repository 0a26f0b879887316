from __future__ import annotations

from pydantic import ConfigDict, Field

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


class VerifyQuery(Model):
    model_config = ConfigDict(extra="ignore")

    full: bool = Field(
        False,
        description="Check every event from the first one and that the chain leads to the newest signed head: "
        "also finds an event edited before that head without its chain recomputed (reads the whole history).",
    )
