"""Notifications the local stack sent, read back from moto: SES emails, print-queue letters, the
patients' answers by MSSanté mail (SES raw emails: ``channel: mssante``, fields decoded) and the
refusals of professionals' mails as delivery status notifications (raw too: ``channel: dsn``).

What moto holds is read where moto runs: in the tests, in this process (``sent()``); for the
devstack's moto server, through the route it adds for this (``ROUTE``, devstack/moto_server.py),
which answers from the same function. Both read SES's sent messages and the messages waiting on
the SQS queues (letters are never consumed locally), never the whole model dump
(``/moto-api/data.json`` grows with everything the stack ever stored). One parser serves both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

MOTO = f"http://127.0.0.1:{os.environ.get('MES_MOTO_PORT', '5000')}"
ROUTE = "/devstack/outbox"


def held() -> dict[str, list]:
    """The emails SES sent and the bodies of the messages on SQS queues, in the process running moto."""
    from moto.ses.models import Message, RawMessage, ses_backends
    from moto.sqs.models import sqs_backends

    emails = [
        {"to": message.destinations.get("ToAddresses", []), "subject": message.subject, "body": message.body}
        for _, _, backend in ses_backends.iter_backends()
        for message in list(backend.sent_messages)  # type: ignore[attr-defined]  # typed as moto's BaseBackend
        if isinstance(message, Message)
    ]
    raw = [
        message.raw_data
        for _, _, backend in ses_backends.iter_backends()
        for message in list(backend.sent_messages)  # type: ignore[attr-defined]  # as above
        if isinstance(message, RawMessage)
    ]
    queued = [
        message.body
        for _, _, backend in sqs_backends.iter_backends()
        for queue in list(backend.queues.values())  # type: ignore[attr-defined]  # as above
        for message in queue.messages
    ]
    return {"emails": emails, "queued": queued, "raw": raw}


def notifications(records: dict[str, list]) -> Iterator[dict[str, Any]]:
    for email in records["emails"]:
        for address in email["to"]:
            yield {"channel": "email", "to": address, "subject": email["subject"], "body": email["body"]}
    for raw in records.get("raw", []):
        yield mssante_mail(raw)
    for body in records["queued"]:
        try:
            letter = json.loads(body)
        except ValueError:
            continue
        if isinstance(letter, dict) and letter.get("channel") == "letter":
            yield letter


def mssante_mail(raw: str | bytes) -> dict[str, Any]:
    """A raw mail as the outbox shows it: decoded text, the attachments' names and types."""
    from email import policy
    from email.parser import BytesParser

    message = BytesParser(policy=policy.default).parsebytes(raw.encode() if isinstance(raw, str) else raw)
    text = message.get_body(preferencelist=("plain",))
    if message.get_content_type() == "multipart/report":
        return delivery_status(message, text.get_content() if text is not None else "", raw)
    return {
        "channel": "mssante",
        "to": str(message["To"]),
        "from": str(message["From"]),
        "subject": str(message["Subject"]),
        "body": text.get_content() if text is not None else "",
        "message_id": str(message["Message-ID"]),
        "in_reply_to": str(message.get("In-Reply-To", "")),
        "attachments": [
            {"filename": part.get_filename(), "media_type": part.get_content_type()}
            for part in message.iter_attachments()
        ],
        "raw": raw if isinstance(raw, str) else raw.decode(errors="replace"),
    }


def delivery_status(message: Any, body: str, raw: str | bytes) -> dict[str, Any]:
    """A refusal's notification: its text, and each recipient's status and SMTP reply."""
    (report,) = [part for part in message.walk() if part.get_content_type() == "message/delivery-status"]
    recipients = report.get_payload()[1:]  # after the per-message fields
    return {
        "channel": "dsn",
        "to": str(message["To"]),
        "from": str(message["From"]),
        "subject": str(message["Subject"]),
        "body": body,
        "status": [str(fields["Status"]) for fields in recipients],
        "diagnostic_code": [str(fields["Diagnostic-Code"]) for fields in recipients],
        "raw": raw if isinstance(raw, str) else raw.decode(errors="replace"),
    }


def server_records(endpoint: str = MOTO) -> dict[str, list]:
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}{ROUTE}", timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def sent(records: dict[str, list] | None = None, to: str | None = None) -> list[dict[str, Any]]:
    found = notifications(records if records is not None else held())
    return [n for n in found if to is None or n["to"] == to or to in json.dumps(n["to"], ensure_ascii=False)]
