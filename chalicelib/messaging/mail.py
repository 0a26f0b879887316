"""MSSanté mail as the messaging reads it (docs/api.md § MSSanté): the addresses, and a raw message
parsed into a message's subject, text and attachments, or refused with the SMTP reply the contract
gives. Mail is hostile input: sizes, nesting, headers, types and encodings are checked here, and
whatever the standard library's parser raises on a message is a refusal, never a crash. A refusal
is answered in SMTP by the local exchanger, and as a delivery status notification deployed
(``delivery_status``): one reply for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from html.parser import HTMLParser

from chalicelib.core.http import content
from chalicelib.core.security.identifiers import InvalidIdentifier, normalize_ins
from chalicelib.core.settings import settings

MAX_MESSAGE_BYTES = 10_000_000  # "10 MB as transmitted" (RFC 1870 SIZE)
MAX_HEADER_BYTES = 256 * 1024  # a header section larger than this is an attack, not a mail
MAX_PARTS = 64
MAX_DEPTH = 8  # multipart inside multipart: professional software nests three or four at most
MAX_ATTACHMENTS = 5  # as an API message (models.MAX_ATTACHMENTS)
MAX_BODY = 20_000  # characters, as an API message (models.MessageCreate)
MAX_SUBJECT = 200
MAX_REFERENCES = 50
MAX_REPORTED_HEADERS = 64 * 1024  # of the refused message's header section, in its notification
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "text/plain")  # routes.ATTACHMENT_TYPES
TRUST_SPACE = "mssante.fr"
NO_SUBJECT = "(sans objet)"


@dataclass(frozen=True)
class Reply:
    """An SMTP reply: code, enhanced status code (RFC 3463), text; ``french``: the text in French,
    for the delivery status notification's readers."""

    code: int
    status: str
    text: str
    french: str = ""

    @property
    def line(self) -> str:
        return f"{self.code} {self.status} {self.text}"

    @property
    def delivered(self) -> bool:
        return self.code == 250


DELIVERED = Reply(250, "2.0.0", "Message delivered")
NOT_IN_DIRECTORY = Reply(
    550,
    "5.7.1",
    "Sender is not a mailbox of the MSSante directory",
    "l'expéditeur n'est pas une boîte aux lettres de l'annuaire MSSanté",
)
NO_MAILBOX = Reply(550, "5.1.1", "No such patient mailbox", "cette boîte aux lettres de patient n'existe pas")
TOO_BIG = Reply(
    552,
    "5.3.4",
    f"Message too big: {MAX_MESSAGE_BYTES} bytes at most",
    f"message trop volumineux : {MAX_MESSAGE_BYTES} octets au plus",
)
ATTACHMENT_REFUSED = Reply(
    554,
    "5.6.1",
    f"Attachment refused: PDF, JPEG, PNG or plain text, 4 MiB each and {MAX_ATTACHMENTS} attachments at most",
    f"pièce jointe refusée : PDF, JPEG, PNG ou texte, 4 Mio chacune et {MAX_ATTACHMENTS} pièces jointes au plus",
)
UNREADABLE = Reply(554, "5.6.0", "Message could not be read", "le message n'a pas pu être lu")
BODY_TOO_LONG = Reply(
    554,
    "5.6.0",
    f"Text over {MAX_BODY} characters: send it as a PDF attachment",
    f"texte de plus de {MAX_BODY} caractères : envoyez-le en pièce jointe PDF",
)
ONE_RECIPIENT = Reply(
    452,
    "4.5.3",
    "One patient recipient per message: send the others again",
    "un seul patient destinataire par message : envoyez-le à nouveau à chacun séparément",
)


class Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.line)
        self.reply = reply


# --- addresses ----------------------------------------------------------------------------------
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?", re.IGNORECASE)


def is_address(address: str) -> bool:
    return len(address) <= 254 and _ADDRESS.fullmatch(address) is not None and ".." not in address


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].casefold()


def in_trust_space(address: str) -> bool:
    """A mailbox of the trust space: in a subdomain of mssante.fr (the patients' domain is not one)."""
    domain = domain_of(address)
    return is_address(address) and domain.endswith("." + TRUST_SPACE) and domain != settings().mail_domain


def patient_ins(address: str) -> str | None:
    """The INS of ``<INS>@patient.mssante.fr`` (its 15 characters, the key checked), else None."""
    if not is_address(address) or domain_of(address) != settings().mail_domain:
        return None
    local = address.rpartition("@")[0]
    if len(local) != 15:
        return None
    try:
        return normalize_ins(local)
    except InvalidIdentifier:
        return None


def patient_address(ins: str) -> str:
    return f"{ins.lower()}@{settings().mail_domain}"


# --- a message ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    data: bytes


@dataclass
class Parsed:
    sender: str  # the header From's address
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    message_id: str = ""
    references: list[str] = field(default_factory=list)  # In-Reply-To first, then References newest first


def parse(raw: bytes) -> Parsed:
    """The message, or ``Refused`` with its reply (``UNREADABLE`` for anything the parser chokes on)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Refused(TOO_BIG)
    if _header_section_size(raw) > MAX_HEADER_BYTES:
        raise Refused(UNREADABLE)
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        return _read(message)
    except Refused:
        raise
    except Exception as error:  # hostile input: whatever the email package raises on it is a refusal
        raise Refused(UNREADABLE) from error


def _header_section_size(raw: bytes) -> int:
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return min(ends) if ends else len(raw)


def _read(message: EmailMessage) -> Parsed:
    if len(message.keys()) > 500:
        raise Refused(UNREADABLE)
    senders = message.get_all("From") or []
    addresses = [a.addr_spec for a in senders[0].addresses] if len(senders) == 1 else []
    if len(addresses) != 1 or not is_address(addresses[0]):
        raise Refused(NOT_IN_DIRECTORY)
    texts: dict[str, str] = {}
    attachments: list[Attachment] = []
    _walk(message, 0, [0], texts, attachments)
    body = texts.get("plain") or texts.get("html") or ""
    own_id = _ids(str(message.get("Message-ID", "")))
    if len(body) > MAX_BODY:
        raise Refused(BODY_TOO_LONG)
    return Parsed(
        sender=addresses[0],
        subject=_subject(message),
        body=body,
        attachments=attachments,
        message_id=own_id[0] if own_id else "",
        references=_references(message),
    )


def _subject(message: EmailMessage) -> str:
    text = " ".join(_printable(str(message.get("Subject", ""))).split())
    if len(text) > MAX_SUBJECT:
        text = text[: MAX_SUBJECT - 1] + "…"
    return text or NO_SUBJECT


_ID = re.compile(r"<[^<>\s]{1,250}>")


def _ids(text: str) -> list[str]:
    return _ID.findall(text)


def _references(message: EmailMessage) -> list[str]:
    found = _ids(str(message.get("In-Reply-To", ""))) + list(reversed(_ids(str(message.get("References", "")))))
    unique = list(dict.fromkeys(found))
    return unique[:MAX_REFERENCES]


def _walk(part: Message, depth: int, count: list[int], texts: dict[str, str], attachments: list[Attachment]) -> None:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_PARTS:
        raise Refused(UNREADABLE)
    if part.is_multipart():
        for child in part.iter_parts():  # type: ignore[attr-defined]  # an EmailMessage under policy.default
            _walk(child, depth + 1, count, texts, attachments)
        return
    media_type = part.get_content_type()
    if part.get_content_disposition() != "attachment" and not part.get_filename() and media_type.startswith("text/"):
        kind = media_type.removeprefix("text/")
        if kind in ("plain", "html") and kind not in texts:
            text = _text_of(part)
            texts[kind] = html_text(text) if kind == "html" else text.strip()
            return
    attachments.append(_attachment(part, media_type, len(attachments)))
    if len(attachments) > MAX_ATTACHMENTS:
        raise Refused(ATTACHMENT_REFUSED)


def _text_of(part: Message) -> str:
    """The part's text in its charset; an unknown or lying charset is read as UTF-8, bad bytes replaced."""
    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    return _printable(text.replace("\r\n", "\n"))


def _printable(text: str) -> str:
    return "".join(c for c in text if c in "\n\t" or (ord(c) >= 32 and ord(c) != 127))


_SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def _attachment(part: Message, media_type: str, index: int) -> Attachment:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data or len(data) > content.MAX_BYTES:
        raise Refused(ATTACHMENT_REFUSED)
    if media_type == "application/octet-stream":  # what many mail clients call any file: its bytes say
        media_type = next((kind for magic, kind in _SIGNATURES.items() if data.startswith(magic)), media_type)
    if media_type == "text/plain":  # kept as UTF-8, as an API attachment (core.http.content)
        data = _text_of(part).encode()
    if media_type not in ATTACHMENT_TYPES or not content.matches(data, media_type):
        raise Refused(ATTACHMENT_REFUSED)
    name = _printable(part.get_filename() or "").replace("/", "_").replace("\\", "_").strip()
    return Attachment(filename=name[:255] or f"piece-jointe-{index + 1}", media_type=media_type, data=data)


# --- a refusal, deployed ------------------------------------------------------------------------
_DSN = policy.SMTP.clone(max_line_length=998)  # SMTP's limit: each status field on one line, as readers expect


def mailer_daemon() -> str:
    return f"MAILER-DAEMON@{settings().mail_domain}"


def delivery_status(reply: Reply, raw: bytes, sender: str, recipients: list[str]) -> bytes:
    """The refusal of ``raw`` as a delivery status notification (RFC 3464) to its ``sender``: a
    text in French and English (the reply's, nothing of the message: neither its content nor the
    recipient's address, which holds the INS), the reply for each recipient (the sender's own
    addressing), the message's headers."""
    domain = settings().mail_domain
    report = MIMEMultipart("report", report_type="delivery-status", policy=_DSN)
    report["From"] = f"Mon espace santé <{mailer_daemon()}>"
    report["To"] = sender
    report["Subject"] = "Message non remis / Undelivered message"
    report["Date"] = formatdate(usegmt=True)
    report["Message-ID"] = make_msgid(domain=domain)
    report["Auto-Submitted"] = "auto-replied"  # RFC 3834: no automatic answer to it
    human = EmailMessage(policy=_DSN)
    human.set_content(
        f"Votre message à un patient de {domain} n'a pas été remis : {reply.french or reply.text}.\n"
        "Il n'a pas été conservé.\n\n"
        f"Your message to a patient of {domain} was not delivered: {reply.text}.\n"
        "It has not been kept.\n\n"
        f"{reply.line}\n",
        cte="quoted-printable",
    )
    status = MIMEBase("message", "delivery-status", policy=_DSN)
    status.attach(_fields({"Reporting-MTA": f"dns; {domain}"}))
    for recipient in recipients:
        per_recipient = {"Final-Recipient": f"rfc822; {recipient}", "Action": "failed", "Status": reply.status}
        status.attach(_fields({**per_recipient, "Diagnostic-Code": f"smtp; {reply.line}"}))
    headers = EmailMessage(policy=_DSN)
    section = _reported_headers(raw)  # 7-bit on the wire as SES sends it: quoted-printable if it is not ASCII
    headers.set_content(section, subtype="rfc822-headers", cte=None if section.isascii() else "quoted-printable")
    for part in (human, status, headers):
        del part["MIME-Version"]
        report.attach(part)
    return report.as_bytes()


def _fields(values: dict[str, str]) -> Message:
    block = Message(policy=_DSN)
    for name, value in values.items():
        block[name] = value
    return block


def _reported_headers(raw: bytes) -> str:
    """The message's header section, cut at a line end under ``MAX_REPORTED_HEADERS``, as text."""
    section = raw[: min(_header_section_size(raw), MAX_REPORTED_HEADERS)]
    if len(section) == MAX_REPORTED_HEADERS:
        section = section[: section.rfind(b"\n") + 1]
    return _printable(section.decode("utf-8", errors="replace").replace("\r\n", "\n")).strip() + "\n"


# --- the text of an HTML part -------------------------------------------------------------------
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre"}
_HIDDEN = {"script", "style", "head", "title"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text a reader sees of an HTML part: tags, scripts and styles gone, blocks on their own lines."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
