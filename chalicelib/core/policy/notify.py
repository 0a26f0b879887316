"""Sends notifications: an email through SES when there is an address, else a letter job on the
print provider's queue (SQS). Texts are built by the caller's templates and must carry no INS,
no name and no health content; the channel is chosen here, in one place, and so is who is told
about a space (``recipients``): every notice about a space goes through ``notify_space`` (or,
for notices worded per recipient, ``recipients``).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from chalicelib.core import logs
from chalicelib.core.data import aws
from chalicelib.core.policy.decision import is_minor
from chalicelib.core.settings import settings


def recipients(account: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Who is told about a space: its holder, or, while the holder is a minor, each of their legal
    representatives, never the child (also after 18 when the holder gave no contact of their own:
    the representatives are then the only ones who know of the enrolment)."""
    representatives = account.get("representatives") or []
    minor = is_minor(date.fromisoformat(account["birth_date"]), today) if account.get("birth_date") else False
    reachable = account.get("email") or account.get("postal_address")
    return list(representatives) if representatives and (minor or not reachable) else [account]


def send_email(to: str, subject: str, body: str) -> None:
    aws.client("ses").send_email(
        Source=settings().sender_email,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
        },
    )


def send_letter(postal_address: str, subject: str, body: str) -> None:
    letter = {"channel": "letter", "to": postal_address, "subject": subject, "body": body}
    aws.client("sqs").send_message(
        QueueUrl=settings().letters_queue_url, MessageBody=json.dumps(letter, ensure_ascii=False)
    )


def notify_space(
    account: dict[str, Any], subject: str, body: str, purpose: str, *, today: date, letters: bool = True
) -> list[str]:
    """Tells whoever is told about this space (``recipients``: a minor's representatives, never the
    child), each by email, else by letter unless ``letters`` is False (a message or a reminder
    by post would arrive after it mattered). Returns the channel used for each."""
    contacts = recipients(account, today)
    return [
        notify(contact if letters else {"email": contact.get("email")}, subject, body, purpose) for contact in contacts
    ]


def notify(contact: dict[str, Any], subject: str, body: str, purpose: str) -> str:
    """Email if the person has one, else a postal letter. Returns the channel used."""
    if contact.get("email"):
        send_email(contact["email"], subject, body)
        channel = "email"
    elif contact.get("postal_address"):
        send_letter(contact["postal_address"], subject, body)
        channel = "letter"
    else:
        channel = "none"
    logs.info("notification sent", purpose=purpose, channel=channel)
    return channel
