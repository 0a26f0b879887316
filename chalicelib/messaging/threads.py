"""A conversation begun by MSSanté mail (docs/api.md § MSSanté): what it keeps to thread the next
mails and to answer by mail, and the patient's answer sent back through SES.

The patient's address holds the INS: it is kept sealed like message content (and so is the last
Message-ID, which a professional's software may build from anything), never logged. Every mail's
Message-ID, received or sent, points at its conversation (store.put_mail_pointer), so that a
mail's In-Reply-To or References find it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from chalicelib.core import logs
from chalicelib.core.data import aws, layout
from chalicelib.core.security import crypto
from chalicelib.core.settings import settings
from chalicelib.messaging import store


def _context(patient_id: str, conversation_id: str, part: str) -> dict[str, str]:
    return {"purpose": "message", "patient_id": patient_id, "conversation_id": conversation_id, "part": part}


@dataclass(frozen=True)
class Received:
    """An inbound mail's thread: the patient's address, the professional's, its Message-ID."""

    patient_address: str
    professional_address: str
    message_id: str

    def entry_fields(self, patient_id: str, conversation_id: str) -> dict[str, Any]:
        """What a conversation begun by this mail keeps on its inbox entries."""
        return {
            "mail_professional": self.professional_address.lower(),
            "mail_patient_sealed": crypto.seal(
                self.patient_address, _context(patient_id, conversation_id, "mail_patient")
            ),
            **self.last_id(patient_id, conversation_id),
        }

    def last_id(self, patient_id: str, conversation_id: str) -> dict[str, Any]:
        if not self.message_id:
            return {}
        return {"mail_last_id_sealed": crypto.seal(self.message_id, _context(patient_id, conversation_id, "mail_id"))}

    def pointer(self, conversation_id: str, rpps: str, patient_id: str) -> list[dict]:
        return [store.put_mail_pointer(self.message_id, conversation_id, rpps, patient_id)] if self.message_id else []


def conversation_of(references: list[str], rpps: str, patient_id: str) -> str | None:
    """The conversation with this professional and patient that a mail answers, by its
    In-Reply-To, then its References newest first; None: a new conversation."""
    found = {p["pk"]: p for p in store.mail_pointers(references[:100])}
    for reference in references:
        pointer = found.get(layout.mail_id(reference)["pk"])
        if pointer and pointer["rpps"] == rpps and pointer["patient_id"] == patient_id:
            return str(pointer["conversation_id"])
    return None


@dataclass(frozen=True)
class Outgoing:
    """The patient's answer as a mail: to the professional who wrote, in their thread."""

    conversation_id: str
    patient_id: str
    rpps: str
    to: str
    sender: str
    subject: str
    in_reply_to: str
    message_id: str

    def pointer(self) -> list[dict]:
        return [store.put_mail_pointer(self.message_id, self.conversation_id, self.rpps, self.patient_id)]


def outgoing(entries: dict[str, dict]) -> Outgoing | None:
    """The mail the patient's answer becomes, if the conversation was begun by mail."""
    entry = entries[store.PROFESSIONAL]
    if not entry.get("mail_professional"):
        return None
    patient_id, conversation_id = entry["patient_id"], entry["conversation_id"]
    subject = crypto.unseal(
        entry["subject_sealed"],
        {"purpose": "message", "patient_id": patient_id, "conversation_id": conversation_id, "part": "subject"},
    )
    last = entry.get("mail_last_id_sealed")
    return Outgoing(
        conversation_id=conversation_id,
        patient_id=patient_id,
        rpps=entry["rpps"],
        to=entry["mail_professional"],
        sender=crypto.unseal(entry["mail_patient_sealed"], _context(patient_id, conversation_id, "mail_patient")),
        subject=subject if subject.lower().startswith("re:") else f"Re: {subject}",
        in_reply_to=crypto.unseal(last, _context(patient_id, conversation_id, "mail_id")) if last else "",
        message_id=make_msgid(domain=settings().mail_domain),
    )


def compose(mail: Outgoing, body: str, files: list[Any]) -> bytes:
    """The MIME message: the text, then each attachment as a part of its own type."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = mail.message_id
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
        message["References"] = mail.in_reply_to
    message.set_content(body)
    for file in files:
        maintype, _, subtype = file.media_type.partition("/")
        if maintype == "text":
            message.add_attachment(file.data.decode("utf-8"), subtype=subtype, filename=file.filename)
        else:
            message.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename)
    return message.as_bytes()


def send(mail: Outgoing, body: str, files: list[Any]) -> None:
    """Sent after the message is stored: a failure is logged (without an address), not raised."""
    try:
        aws.client("ses").send_raw_email(
            Source=mail.sender, Destinations=[mail.to], RawMessage={"Data": compose(mail, body, files)}
        )
    except Exception as error:  # noqa: BLE001 - the message is in the conversation whatever happens here
        # the error's type only: SES's messages quote the addresses, and the patient's holds the INS
        logs.error("answer by mail failed", conversation_id=mail.conversation_id, error=type(error).__name__)
