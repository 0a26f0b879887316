"""MSSanté mail into the messaging (docs/api.md § MSSanté): the envelope's checks, answered before
``DATA``, and the delivery of a raw message from the inbound bucket, where SES's receipt rule (or,
locally, devstack/smtp_server.py) puts it. One path parses and delivers, deployed and locally;
whatever the outcome, the raw message is deleted once it is known (what is kept is the
conversation, encrypted). Nothing here logs an address: the patient's holds the INS.

Deployed, SES has answered 250 before the function runs: a refusal reaches the sender as a delivery
status notification with the reply the local exchanger answers in SMTP, and only a mailbox of the
directory gets one (a forged sender gets nothing: no backscatter); nor does a message SES's scan
failed.
"""

from __future__ import annotations

from chalicelib.core import logs
from chalicelib.core.data import aws, spaces
from chalicelib.core.security import pseudonyms
from chalicelib.core.settings import settings
from chalicelib.messaging import directory, mail, service

TRY_AGAIN = mail.Reply(
    451, "4.3.0", "Temporary failure: try again later", "erreur temporaire : envoyez-le à nouveau plus tard"
)
SCANNED_OUT = mail.Reply(554, "5.7.1", "Message refused as spam or carrying a virus")


def check_sender(address: str) -> mail.Reply | None:
    """``MAIL FROM``: a mailbox of the directory, else 550 5.7.1."""
    return None if directory.find(address) else mail.NOT_IN_DIRECTORY


def check_recipient(address: str, accepted: int) -> mail.Reply | None:
    """``RCPT TO``: one ``<valid INS>@patient.mssante.fr`` per message, else 550 5.1.1 (452 for a
    second recipient: the sender sends it again, alone)."""
    if mail.patient_ins(address) is None:
        return mail.NO_MAILBOX
    return mail.ONE_RECIPIENT if accepted else None


def inbound_key(mail_id: str) -> str:
    """The object SES's receipt rule writes (its ObjectKeyPrefix, then SES's message id: opaque)."""
    return f"inbound/{mail_id}"


def receive(
    mail_id: str, mail_from: str, recipients: list[str], notify: bool = False, scanned_out: bool = False
) -> mail.Reply:
    """Delivers or refuses the raw message ``mail_id`` of the inbound bucket, then deletes it.
    ``notify`` (deployed): a refusal is sent to the sender as a notification; ``scanned_out``: SES
    found spam or a virus in it, refused without one."""
    s3, bucket, key = aws.client("s3"), settings().inbound_mail_bucket, inbound_key(mail_id)
    stored = s3.get_object(Bucket=bucket, Key=key)
    raw = b""
    try:
        raw = stored["Body"].read(mail.MAX_MESSAGE_BYTES + 1)
        reply = SCANNED_OUT if scanned_out else deliver(raw, mail_from, recipients)
    except Exception as error:  # noqa: BLE001 - a failure of ours: the sender tries again later
        logs.error("inbound mail failed", mail_id=mail_id, error=type(error).__name__)
        reply = TRY_AGAIN
    finally:
        version = {"VersionId": stored["VersionId"]} if stored.get("VersionId") else {}
        s3.delete_object(Bucket=bucket, Key=key, **version)  # that version itself: the bucket is versioned
    refused = notify and not reply.delivered and reply is not SCANNED_OUT
    notified = refused and _notify(reply, raw, mail_from, recipients)
    logs.info("inbound mail", mail_id=mail_id, reply=reply.code, status=reply.status, notified=notified)
    return reply


def _notify(reply: mail.Reply, raw: bytes, mail_from: str, recipients: list[str]) -> bool:
    """The refusal to the envelope's sender if it is a mailbox of the directory; a failure is
    logged (its type: SES's messages quote the addresses), not raised: the message is refused."""
    try:
        if directory.find(mail_from) is None:
            return False
        aws.client("ses").send_raw_email(
            Source=mail.mailer_daemon(),
            Destinations=[mail_from],
            RawMessage={"Data": mail.delivery_status(reply, raw, mail_from, recipients)},
        )
        return True
    except Exception as error:  # noqa: BLE001 - the sender's software will not know; the refusal stands
        logs.error("refusal notification failed", error=type(error).__name__)
        return False


def deliver(raw: bytes, mail_from: str, recipients: list[str]) -> mail.Reply:
    """The envelope checked again (deployed, SES asks nothing before DATA), the message parsed, its
    header From in the directory, the recipient's space found: the conversation gets it."""
    envelope_sender = directory.find(mail_from)
    if envelope_sender is None:
        return mail.NOT_IN_DIRECTORY
    refused = check_recipient(recipients[0], 0) if len(recipients) == 1 else mail.ONE_RECIPIENT
    if refused:
        return refused
    ins = mail.patient_ins(recipients[0])
    try:
        parsed = mail.parse(raw)
    except mail.Refused as refusal:
        return refusal.reply
    same = parsed.sender.casefold() == envelope_sender.address.casefold()
    author = envelope_sender if same else directory.find(parsed.sender)
    if author is None:
        return mail.NOT_IN_DIRECTORY
    patient_id = spaces.patient_id_for(pseudonyms.ins_digest(ins)) if ins else None
    if patient_id is None:
        return mail.NO_MAILBOX
    return service.receive_mail(author, patient_id, recipients[0], parsed)
