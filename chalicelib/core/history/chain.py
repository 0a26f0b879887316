"""The hash chain of a person's activity history: pure, no storage.

Each event's hash covers its content and the previous event's hash, so editing, inserting or
deleting any past event changes every hash after it; the head (last sequence number and hash,
stored apart) catches the removal of the newest events.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64
LAST_SEQ = 10**12 - 1  # an event's sort key holds its seq in 12 digits (core.data.layout)
CHAINED_FIELDS = ("seq", "event_id", "at", "actor_role", "actor_id", "action", "resource")
# Chained only when the event carries them: events written before a field existed keep their hash.
OPTIONAL_CHAINED_FIELDS = ("hidden_from_representatives", "invisible_to_patient")


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    fields: dict[str, Any] = {name: event.get(name) for name in CHAINED_FIELDS}
    fields.update({name: event[name] for name in OPTIONAL_CHAINED_FIELDS if name in event})
    fields["seq"] = int(fields["seq"])  # DynamoDB gives it back as a Decimal
    content = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def verify(events: list[dict[str, Any]], head: dict[str, Any] | None, since: tuple[int, str] | None = None) -> bool:
    """``events`` in sequence order; ``head`` the stored {seq, hash} (None for an empty history).

    ``since``: a signed (seq, hash) trusted as it is (core.history.heads); ``events`` then start
    with the event at that seq, whose content must still give that hash, and the chain is checked
    from there on. Without it, from the genesis."""
    expected_seq, prev_hash = 1, GENESIS
    if since is not None:
        signed_seq, signed_hash = since
        if not events or int(events[0]["seq"]) != signed_seq or events[0].get("hash") != signed_hash:
            return False
        if event_hash(events[0].get("prev_hash", ""), events[0]) != signed_hash:
            return False
        expected_seq, prev_hash, events = signed_seq + 1, signed_hash, events[1:]
    last_seq = expected_seq - 1
    for last_seq, event in enumerate(events, start=expected_seq):
        if int(event["seq"]) != last_seq or event.get("prev_hash") != prev_hash:
            return False
        if event_hash(prev_hash, event) != event.get("hash"):
            return False
        prev_hash = event["hash"]
    if head is None:
        return last_seq == 0
    return int(head["seq"]) == last_seq and head["hash"] == prev_hash


def passes_through(events: list[dict[str, Any]], signed: tuple[int, str]) -> bool:
    """``events`` from the genesis, already verified: the chain holds the signed (seq, hash)."""
    signed_seq, signed_hash = signed
    return len(events) >= signed_seq and events[signed_seq - 1].get("hash") == signed_hash
