"""Pydantic field types and rules the models share.

Identifiers and media types validate, and report their own error code (``invalid_ins`` /
``invalid_rpps`` / ``unsupported_media_type``) so the API answers with it (core.http.api.invalid_input).
``UtcMoment`` takes a moment in any offset and keeps it in UTC; ``not_before`` orders two moments of a model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, ValidationInfo, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from chalicelib.core.security.identifiers import (
    INS_INPUT_PATTERN,
    RPPS_INPUT_PATTERN,
    InvalidIdentifier,
    normalize_ins,
    normalize_rpps,
)


def _pydantic_ins(value: str) -> str:
    try:
        return normalize_ins(value)
    except InvalidIdentifier as exc:
        # PydanticCustomError is a ValueError; its type becomes "invalid_ins".
        raise PydanticCustomError(exc.code, exc.message) from None


def _pydantic_rpps(value: str) -> str:
    try:
        return normalize_rpps(value)
    except InvalidIdentifier as exc:
        raise PydanticCustomError(exc.code, exc.message) from None


Ins = Annotated[
    str,
    AfterValidator(_pydantic_ins),
    WithJsonSchema(
        {
            "type": "string",
            "title": "INS",
            "description": (
                "INS (Identifiant National de Santé): the 13-character NIR "
                "followed by its 2-digit key, 15 characters in all. Spaces are "
                "allowed and ignored; Corsican départements 2A/2B may be lower "
                "case. Normalised to 15 characters without spaces, upper case."
            ),
            "pattern": INS_INPUT_PATTERN,
            "examples": ["284052A12345632", "2 84 05 2A 123 456 32"],
        }
    ),
]
"""Pydantic type: validates and normalises an INS (see ``normalize_ins``)."""

Rpps = Annotated[
    str,
    AfterValidator(_pydantic_rpps),
    WithJsonSchema(
        {
            "type": "string",
            "title": "RPPS",
            "description": (
                "RPPS number: 11 digits, the last being a Luhn check digit. "
                "Spaces are ignored; normalised to 11 digits."
            ),
            "pattern": RPPS_INPUT_PATTERN,
            "examples": ["10000000009"],
        }
    ),
]
"""Pydantic type: validates and normalises an RPPS number (see ``normalize_rpps``)."""


MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png", "text/plain")


def _allowed_media_type(value: str) -> str:
    if value not in MEDIA_TYPES:
        raise PydanticCustomError(
            "unsupported_media_type",
            "Not an accepted media type: use one of {allowed}.",
            {"allowed": ", ".join(MEDIA_TYPES)},
        )
    return value


MediaType = Annotated[
    str, AfterValidator(_allowed_media_type), WithJsonSchema({"type": "string", "enum": list(MEDIA_TYPES)})
]
"""Pydantic type: the media types a document or an attachment may have (docs/api.md § Documents)."""


FIRST_YEAR = 1000
"""Moments are stored as ISO texts that sort as time does only with four-digit years."""


def in_utc(value: datetime) -> datetime:
    """The moment in UTC (a moment without an offset is taken as UTC). A ValueError, which the API
    answers as a 400 naming the field, when UTC cannot hold it: 0001-01-01T00:00:00+01:00 is the
    year 0 in UTC, 9999-12-31T23:00:00-05:00 the year 10000."""
    try:
        moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or moment.year < FIRST_YEAR:
        raise ValueError(f"give a moment between the years {FIRST_YEAR} and 9999 in UTC")
    return moment


UtcMoment = Annotated[datetime, AfterValidator(in_utc)]
"""Pydantic type: an ISO 8601 date-time, without an offset taken as UTC, kept in UTC."""

AwareUtcMoment = Annotated[AwareDatetime, AfterValidator(in_utc)]
"""Pydantic type: an ISO 8601 date-time that must carry its offset, kept in UTC."""


def not_before(field: str, earlier: str, message: str) -> Any:
    """A validator of ``field``: when both are given, it may not be before ``earlier`` (a field
    declared above it). Use as ``end_after_start = not_before("end", "start", "...")``."""

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        start = info.data.get(earlier)
        if value is not None and start is not None and value < start:
            raise ValueError(message)
        return value

    return field_validator(field)(check)


# A telephone number as people write it: digits, optionally grouped by spaces, dots or dashes, an
# international prefix allowed ("06 12 34 56 78", "+33 6 12 34 56 78"); 6 to 20 digits.
Phone = Annotated[str, Field(pattern=r"^\+?[0-9](?:[ .-]?[0-9]){5,19}$", description="A telephone number.")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="An email address.")]
