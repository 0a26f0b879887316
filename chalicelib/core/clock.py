"""Time in one place: UTC, ISO 8601 with a ``Z``, second precision on the wire."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC)


def latest_date() -> date:
    """The latest calendar date a person may call today, with a day's margin over UTC: a French
    night is already tomorrow in Paris while UTC is still today, and so are the overseas
    departments east of UTC."""
    return (now() + timedelta(days=1)).date()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
