"""The catalogue of referenced digital health services, and patients' connections to them
(docs/api.md § Catalogue and connected apps)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from chalicelib.core.http.pagination import Page, PageQuery
from chalicelib.core.models import Model, Strict

Scope = Literal[
    "measurements:read",
    "measurements:write",
    "documents:read",
    "documents:write",
    "agenda:read",
    "agenda:write",
    "profile:read",
]
Status = Literal["referenced", "withdrawn"]
CATEGORY = r"^[a-z0-9][a-z0-9_-]{0,39}$"
APP_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$"


def _distinct(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("list each scope once")
    return value


class AppCreate(Strict):
    app_id: str | None = Field(
        None, pattern=APP_ID, description="The app's OAuth client_id, if already registered; generated otherwise."
    )
    name: str = Field(min_length=1, max_length=100)
    publisher: str = Field(min_length=1, max_length=200)
    category: str = Field(
        pattern=CATEGORY, description="Lower-case slug, e.g. diabetes, prevention, physical_activity."
    )
    description: str = Field(min_length=1, max_length=2000)
    scopes: list[Scope] = Field(min_length=1, max_length=7)

    _distinct = field_validator("scopes")(classmethod(lambda cls, value: _distinct(value)))


class AppPatch(Model):
    model_config = ConfigDict(extra="forbid")

    status: Status


class App(Model):
    app_id: str
    name: str
    publisher: str
    category: str
    description: str
    scopes: list[str]
    status: str
    referenced_at: str | None = None


class AppQuery(PageQuery):
    category: str | None = Field(None, pattern=CATEGORY)


class AppPage(Page[App]):
    pass


class ConnectionCreate(Strict):
    app_id: str = Field(pattern=APP_ID)
    scopes: list[Scope] = Field(min_length=1, max_length=7, description="A subset of the app's scopes.")

    _distinct = field_validator("scopes")(classmethod(lambda cls, value: _distinct(value)))


class Connection(Model):
    connection_id: str
    app_id: str
    scopes: list[str]
    created_at: str


class ConnectionPage(Page[Connection]):
    pass
