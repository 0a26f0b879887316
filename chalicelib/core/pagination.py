"""Lists: ``?limit=`` (default 50, max 200) and an opaque ``?cursor=`` (API.md § Conventions).

A cursor is DynamoDB's LastEvaluatedKey, encoded; on the way back it must belong to the same
partition as the query, so a crafted cursor cannot walk into another person's data.
"""

from __future__ import annotations

import base64
import json
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.errors import InvalidRequest

T = TypeVar("T")


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(50, ge=1, le=200, description="How many items to return (1-200).")
    cursor: str | None = Field(None, max_length=2048, description="The next_cursor of the previous page.")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, **expected: str) -> dict | None:
    """The start key of the next page; ``expected`` names key attributes it must carry as they are."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        key = None
    valid = isinstance(key, dict) and all(isinstance(v, str) for v in key.values())
    if not valid or any(key.get(name) != value for name, value in expected.items()):
        raise foreign_cursor()
    return key


def foreign_cursor() -> InvalidRequest:
    return InvalidRequest(
        "The cursor is not valid for this list: pass the next_cursor you were given.",
        [{"field": "cursor", "message": "Unknown or foreign cursor."}],
    )
