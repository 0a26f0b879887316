"""The bases of every module's pydantic models, and the models the kernel shares.

A model is built (its validator, its serializer) the first time it is used, not when its module
is imported (``defer_build``): a function's first request builds the models it validates, not
every model of its module. Derive a model from ``Model``, a request body from ``Strict``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


class Strict(Model):
    """A request body: an unknown field is refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ActorRef(Model):
    """Who did something, as the history and the API name them (docs/api.md § Tokens: ``{"role", "id"}``)."""

    role: str
    id: str
