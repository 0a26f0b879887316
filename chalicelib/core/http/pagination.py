"""Lists: ``?limit=`` (default 50, max 200) and an opaque ``?cursor=`` (docs/api.md § Conventions).

A cursor is DynamoDB's LastEvaluatedKey sealed with AES-256-GCM under a key of the stack
(core.security.pseudonyms), the list's scope as associated data. Each list declares its scope once, for
both ends: ``scope(list name, caller, **what it lists and its filters)``. A cursor used on another
list, with other filters, by another caller, or altered, does not open: 400 on ``cursor``, and
DynamoDB only ever sees start keys we wrote for the very same query. Sealed, not only signed:
the last key read may be an item the caller does not see (a masked document), and its id must
not leak.
"""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ConfigDict, Field, field_validator

from chalicelib.core.errors import foreign_cursor
from chalicelib.core.http.api import query_integer
from chalicelib.core.models import Model

if TYPE_CHECKING:
    from chalicelib.core.security.auth import Principal

T = TypeVar("T")
_NONCE = 12
MAX_LIMIT = 200


class PageQuery(Model):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"How many items to return (1-{MAX_LIMIT}).")
    cursor: str | None = Field(None, max_length=2048, description="The next_cursor of the previous page.")

    @field_validator("limit", mode="before")
    @classmethod
    def _limit_in_digits(cls, value: Any) -> Any:
        return query_integer(value, "limit", minimum=1, maximum=MAX_LIMIT) if isinstance(value, str) else value


class Page(Model, Generic[T]):
    items: list[T]
    next_cursor: str | None


def scope(list_name: str, caller: Principal | None, **filters: Any) -> bytes:
    """What a list's cursors are bound to: the list, what it lists and its filters as the query
    gave them (None included), and who asks (``None``: a public list)."""
    identity = caller.identity if caller is not None else "public"
    return json.dumps([list_name, identity, filters], sort_keys=True, default=str, separators=(",", ":")).encode()


def _cipher() -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from chalicelib.core.security import pseudonyms

    return AESGCM(pseudonyms.cursor_key())


def encode_cursor(last_key: dict[str, Any] | None, list_scope: bytes) -> str | None:
    if not last_key:
        return None
    nonce = os.urandom(_NONCE)
    sealed = _cipher().encrypt(nonce, json.dumps(last_key, separators=(",", ":")).encode(), list_scope)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decode_cursor(cursor: str | None, list_scope: bytes) -> dict[str, Any] | None:
    """The start key of the next page, only from a cursor this list gave this caller."""
    from cryptography.exceptions import InvalidTag

    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start_key: dict[str, Any] = json.loads(_cipher().decrypt(raw[:_NONCE], raw[_NONCE:], list_scope))
        return start_key
    except (ValueError, InvalidTag):  # bad base64 and short nonces are ValueErrors
        raise foreign_cursor() from None
