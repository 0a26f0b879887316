"""Secure messaging between a professional and a patient (docs/domain.md § Four modules; docs/api.md § Messaging).

- The access policy is the only gate: ``create`` on a conversation (a professional opens one, a
  patient never), ``message`` (write in one), ``read``. Being one of the two participants is the
  conversation's own fact, checked here first: anyone else gets 404, as if it did not exist. The
  patient's side is the space's: its holder, or whoever acts for them (a minor's legal
  representatives, a protected adult's guardian, under their own actor), as for the record.
- Everything a person wrote is encrypted (Encryption SDK) under a context naming the patient, the
  conversation and the part: bodies and attachments in S3 (core.security.blobs), the body stored as an
  envelope that also holds the attachments' file names; the subject on the inbox entries, opened
  when an inbox is listed (one KMS call per conversation, run side by side, fewer when cached).
- A professional's inbox lists only the conversations the policy still lets them read: a patient
  who blocked them, or a closed space, takes the conversation out of it at once.
- A message, its inbox updates, the markers' removal and its history event are one transaction,
  which also re-checks that the space is still open and the professional still not blocked: a
  block or a closure that lands while the message is being sent stops it.
- The other participant is told by email that a new message arrived, nothing more: on the
  patient's side, whoever core.policy.notify says is told about the space (a minor's representatives).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

from chalicelib.core import clock, logs
from chalicelib.core.data import concurrency, layout, purge, spaces
from chalicelib.core.errors import ApiError, Conflict, Forbidden, NotFound
from chalicelib.core.history import journal
from chalicelib.core.http import content
from chalicelib.core.http.api import Raw
from chalicelib.core.http.pagination import decode_cursor, encode_cursor, scope
from chalicelib.core.ids import new_id, new_sortable_id
from chalicelib.core.models import ActorRef
from chalicelib.core.policy.decision import CAREGIVER, CREATE, MESSAGE, READ, REPRESENTATIVE, Resource, decide
from chalicelib.core.policy.gate import Authorized, actor_of, check, load_space, to_space
from chalicelib.core.policy.notify import notify_space
from chalicelib.core.security import blobs, crypto, pseudonyms
from chalicelib.core.security.auth import Principal
from chalicelib.messaging import mail, notices, store, threads
from chalicelib.messaging.models import (
    AttachmentIn,
    AttachmentOut,
    Conversation,
    ConversationCreate,
    ConversationPage,
    DirectoryEntry,
    Message,
    MessageCreate,
    MessagePage,
    Opened,
    ProfessionalRef,
    Sent,
)

CONTENT = blobs.Bucket("messages")  # this module's encrypted content, in its own bucket

CONVERSATION = Resource(kind="conversation")
NO_CONVERSATION = "No such conversation, or you are not one of its participants."
PATIENT_CANNOT_OPEN = (
    "A patient cannot open a conversation: only a professional can. "
    "Reply in a conversation a professional opened with you."
)


def _context(patient_id: str, conversation_id: str, message_id: str, part: str) -> dict[str, str]:
    return {
        "purpose": "message",
        "patient_id": patient_id,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "part": part,
    }


def _subject_context(patient_id: str, conversation_id: str) -> dict[str, str]:
    return {"purpose": "message", "patient_id": patient_id, "conversation_id": conversation_id, "part": "subject"}


def _gate(principal: Principal, items, action: str) -> Authorized:
    try:
        return check(principal, items, action, CONVERSATION)
    except Forbidden:
        if principal.role == "patient" and action == CREATE:  # the policy's only 403 for it there
            raise Forbidden(PATIENT_CANNOT_OPEN) from None
        raise


# --- writing ------------------------------------------------------------------------------------


@dataclass
class _Stored:
    item: dict
    object_keys: list[str]


@dataclass(frozen=True)
class File:
    filename: str
    media_type: str
    data: bytes


def _files(attachments: list[AttachmentIn]) -> list[File]:
    """The attachments' bytes, checked as documents' are (type and size)."""
    return [
        File(
            a.filename,
            a.media_type,
            content.check(a.content_base64, a.media_type, field=f"attachments.{i}.content_base64"),
        )
        for i, a in enumerate(attachments)
    ]


def _store_message(patient_id: str, conversation_id: str, author: ActorRef, body: str, files: list[File]) -> _Stored:
    """Encrypts and uploads body and files (checked already). The caller's transaction must delete
    the markers of ``object_keys``; on failure it abandons them."""
    message_id = new_sortable_id("msg")
    owner = store.owner(conversation_id, message_id)
    envelope = json.dumps({"body": body, "filenames": [f.filename for f in files]}, ensure_ascii=False).encode()
    stored: list[str] = []
    try:
        body_key = store.body_object_key(message_id)
        stored.append(body_key)
        body_sha = CONTENT.store(body_key, envelope, _context(patient_id, conversation_id, message_id, "body"), owner)
        parts = []
        for index, file in enumerate(files):
            key = store.attachment_object_key(message_id, index)
            stored.append(key)
            sha = CONTENT.store(
                key, file.data, _context(patient_id, conversation_id, message_id, f"attachment-{index}"), owner
            )
            parts.append(
                {
                    "index": index,
                    "media_type": file.media_type,
                    "size": len(file.data),
                    "sha256": sha,
                    "object_key": key,
                }
            )
    except BaseException:
        CONTENT.discard_all(stored)  # before the transaction: nothing owns them
        raise
    item = {
        "conversation_id": conversation_id,
        "message_id": message_id,
        "author_role": author.role,
        "author_id": author.id,
        "sent_at": clock.iso(clock.now()),
        "object_key": body_key,
        "sha256": body_sha,
        "size": len(envelope),
        "attachments": parts,
    }
    return _Stored(item, stored)


def _commit(granted: Authorized, action: str, resource: str, stored: _Stored, items: list[dict]) -> None:
    """The message and its history event in one transaction, re-checking that the space is still
    open and, for a professional author, that they are still not blocked; when that lost a race,
    the policy says why on a fresh read of the space."""
    patient_id = granted.space.patient_id
    guard = [store.space_open_check(patient_id)]
    if granted.actor.role == "professional":
        guard.append(store.not_blocked_check(patient_id, granted.actor.id))
    transaction = (
        items
        + [store.put_message(stored.item["conversation_id"], stored.item)]
        + [CONTENT.delete_marker_item(key) for key in stored.object_keys]
        + guard
    )
    try:
        journal.commit(patient_id, granted.actor_ref, action, resource, writes=transaction)
    except journal.StateChanged:
        CONTENT.discard_all(stored.object_keys)  # refused: nothing was written
        _decide_again(granted)
        raise Conflict("This conversation changed in the meantime; try again.") from None
    except BaseException as error:
        CONTENT.abandon(stored.object_keys, error)  # at once only if nothing was written: else the sweeper decides
        raise


def _decide_again(granted: Authorized) -> None:
    """After a lost race: the policy decides again on the space as it is now (raises if refused)."""
    decision = decide(granted.actor, to_space(load_space(granted.space.patient_id)), MESSAGE, CONVERSATION, clock.now())
    if not decision.allowed:
        if decision.hide_existence:
            raise NotFound(NO_CONVERSATION)
        raise Forbidden(f"You may not do this on this space ({decision.reason.replace('_', ' ')}).")


def open_conversation(principal: Principal, request: ConversationCreate) -> Opened:
    items = load_space(request.patient_id)
    granted = _gate(principal, items, CREATE)
    return _open(granted, principal.name, request.subject, request.body, _files(request.attachments))


def _open(
    granted: Authorized, name: str, subject: str, body: str, files: list[File], thread: threads.Received | None = None
) -> Opened:
    """A new conversation with its first message, by the API or by mail (``thread``: the mail's)."""
    patient_id = granted.space.patient_id
    conversation_id = new_id("conv")
    stored = _store_message(patient_id, conversation_id, granted.actor_ref, body, files)
    sent_at = stored.item["sent_at"]
    common = {
        "conversation_id": conversation_id,
        "patient_id": patient_id,
        "rpps": granted.actor.id,
        "professional_name": name,
        "subject_sealed": crypto.seal(subject, _subject_context(patient_id, conversation_id)),
        "created_at": sent_at,
        "last_message_at": sent_at,
        **(thread.entry_fields(patient_id, conversation_id) if thread else {}),
    }
    entries = [
        store.put_participant({**common, "role": store.PATIENT, "unread": 1}),
        store.put_participant(
            {**common, "role": store.PROFESSIONAL, "unread": 0, "last_read": stored.item["message_id"]}
        ),
        *(thread.pointer(conversation_id, granted.actor.id, patient_id) if thread else []),
    ]
    action = "message.received" if thread else "conversation.opened"
    _commit(granted, action, stored.item["message_id"] if thread else conversation_id, stored, entries)
    _tell(granted.items.account, recipient=store.PATIENT)
    return Opened(conversation_id=conversation_id, message_id=stored.item["message_id"], sent_at=sent_at)


def reply(principal: Principal, conversation_id: str, request: MessageCreate) -> Sent:
    """A message in the conversation; the patient's side's answer in a conversation begun by mail
    also goes back by mail (docs/api.md § MSSanté)."""
    granted, entries, role = _participant(principal, conversation_id, MESSAGE)
    files = _files(request.attachments)
    by_mail = threads.outgoing(entries) if role == store.PATIENT else None
    sent = _add(granted, conversation_id, role, request.body, files, by_mail.pointer() if by_mail else [])
    if by_mail:
        threads.send(by_mail, request.body, files)
    return sent


def _add(
    granted: Authorized,
    conversation_id: str,
    role: str,
    body: str,
    files: list[File],
    extra: list[dict],
    *,
    action: str = "message.sent",
    also: dict | None = None,
) -> Sent:
    """A new message in a conversation by ``role``'s side, with ``extra`` writes in its transaction
    and ``also`` set on the author's side's inbox entry."""
    patient_id = granted.space.patient_id
    stored = _store_message(patient_id, conversation_id, granted.actor_ref, body, files)
    sent_at = stored.item["sent_at"]
    other = store.PROFESSIONAL if role == store.PATIENT else store.PATIENT
    updates = [
        store.touch_participant(conversation_id, role, sent_at, recipient=False, also=also),
        store.touch_participant(conversation_id, other, sent_at, recipient=True),
        *extra,
    ]
    _commit(granted, action, stored.item["message_id"], stored, updates)
    _tell(granted.items.account, recipient=other)
    return Sent(conversation_id=conversation_id, message_id=stored.item["message_id"], sent_at=sent_at)


def _tell(account: dict, recipient: str) -> None:
    """The message is sent whatever happens here: a failed notification is logged, not raised.
    The patient's side is emailed (no letter for a message: it would arrive after the next login).
    Professionals have no email address in our data (Pro Santé Connect gives none): skipped."""
    if recipient == store.PROFESSIONAL:
        logs.info("message notification skipped: professionals have no email address in our data", purpose="message")
        return
    try:
        notify_space(account, *notices.new_message(), purpose="message", today=clock.now().date(), letters=False)
    except Exception:  # noqa: BLE001 - the message is sent whatever happens here
        logs.error("message notification failed", exc_info=True)


# --- MSSanté mail ---------------------------------------------------------------------------------


def receive_mail(author: DirectoryEntry, patient_id: str, patient_address: str, parsed: mail.Parsed) -> mail.Reply:
    """A professional's mail into the patient's messaging: a new conversation, or a message in the
    one with this professional that it answers. The access policy decides as for a message sent
    through the API (a closed space, a blocked professional: no such mailbox)."""
    principal = Principal(
        role="professional",
        sub=f"mssante:{author.rpps}",
        claims={"rpps": author.rpps, "profession": author.profession, "name": author.name},
    )
    items = spaces.load(patient_id)
    if items is None:
        return mail.NO_MAILBOX
    try:
        granted = check(principal, items, CREATE, CONVERSATION)
    except (Forbidden, NotFound):
        return mail.NO_MAILBOX
    known = store.mail_pointers([parsed.message_id]) if parsed.message_id else []
    if any(p["rpps"] == author.rpps and p["patient_id"] == patient_id for p in known):
        return mail.DELIVERED  # the same mail again (a retry): delivered once
    # A Message-ID another thread holds already names nothing of this mail's: it is not kept.
    thread = threads.Received(patient_address, author.address, "" if known else parsed.message_id)
    files = [File(a.filename, a.media_type, a.data) for a in parsed.attachments]
    conversation_id = threads.conversation_of(parsed.references, author.rpps, patient_id)
    try:
        if conversation_id is None:
            _open(granted, author.name, parsed.subject, parsed.body, files, thread)
        else:
            _add(
                granted,
                conversation_id,
                store.PROFESSIONAL,
                parsed.body,
                files,
                thread.pointer(conversation_id, author.rpps, patient_id),
                action="message.received",
                also=thread.last_id(patient_id, conversation_id),
            )
    except (Forbidden, NotFound, Conflict):  # closed or blocked meanwhile: nothing was stored
        return mail.NO_MAILBOX
    return mail.DELIVERED


# --- reading ------------------------------------------------------------------------------------


def _participant(principal: Principal, conversation_id: str, action: str) -> tuple[Authorized, dict[str, dict], str]:
    """The conversation if the caller is one of its two participants (else 404), the policy's
    decision on ``action`` in the patient's space (a block, a closure, the end of a representation
    apply at once) and the caller's side (``store.PATIENT`` for whoever acts for the holder)."""
    entries = store.participants(conversation_id)
    if set(entries) != set(store.ROLES):
        raise NotFound(NO_CONVERSATION)
    patient_id = entries[store.PATIENT]["patient_id"]
    try:
        items = load_space(patient_id)
    except NotFound:
        raise NotFound(NO_CONVERSATION) from None
    actor = actor_of(principal, items)
    if (actor.role == store.PATIENT and actor.patient_id == patient_id) or actor.role in (REPRESENTATIVE, CAREGIVER):
        role = (
            store.PATIENT
        )  # a representative is one named on this space (core.policy.gate): the policy decides the rest
    elif actor.role == store.PROFESSIONAL and actor.id == entries[store.PROFESSIONAL]["rpps"]:
        role = store.PROFESSIONAL
    else:
        raise NotFound(NO_CONVERSATION)
    try:
        granted = check(principal, items, action, CONVERSATION)
    except NotFound:
        raise NotFound(NO_CONVERSATION) from None
    return granted, entries, role


def _conversation(entry: dict, subject: str) -> Conversation:
    return Conversation(
        conversation_id=entry["conversation_id"],
        subject=subject,
        professional=ProfessionalRef(rpps=entry["rpps"], name=entry.get("professional_name", "")),
        patient_id=entry["patient_id"],
        created_at=entry["created_at"],
        last_message_at=entry["last_message_at"],
        unread=max(0, int(entry.get("unread", 0))),
    )


def list_conversations(principal: Principal, limit: int, cursor: str | None) -> ConversationPage:
    """The caller's conversations, newest activity first, from the inbox index.

    A patient token reads the patient's side of the spaces it may (``_patient_side``): its own and
    those it manages, merged; each entry's ``patient_id`` says whose space it is. A professional's
    inbox is their own: the conversations they opened, each still subject to the policy's ``read``
    in its patient's space (a page may hold fewer than ``limit``)."""
    if principal.role == store.PATIENT:
        list_scope = scope("conversations", principal, side=store.PATIENT)
        items, last_key = store.patient_inboxes_page(_patient_side(principal), limit, decode_cursor(cursor, list_scope))
    else:
        list_scope = scope("conversations", principal, inbox=store.inbox(store.PROFESSIONAL, principal.rpps))
        items, last_key = store.inbox_page(store.PROFESSIONAL, principal.rpps, limit, decode_cursor(cursor, list_scope))
        items = _still_readable_by(principal, items)
    subjects = _open_subjects(items)
    return ConversationPage(
        items=[_conversation(i, s) for i, s in zip(items, subjects, strict=True)],
        next_cursor=encode_cursor(last_key, list_scope),
    )


def _patient_side(principal: Principal) -> list[str]:
    """The spaces whose conversations this patient token reads: the person's own and those they act
    on as legal representative or guardian, each as the policy decides ``read`` now (a minor's
    own login reaches nothing, a representation ends on the 18th birthday). When none is readable,
    the refusal of their own space (a minor: 403), else 404."""
    no_space = NotFound("You have no Mon espace santé space.")
    person_id = spaces.patient_id_for(pseudonyms.ins_digest(principal.ins))
    if person_id is None:
        raise no_space
    readable: list[str] = []
    refusal: ApiError = no_space
    for patient_id in [person_id, *spaces.represented_by(person_id)]:
        items = spaces.load(patient_id)
        if items is None:
            continue  # a representative with no space of their own
        try:
            readable.append(check(principal, items, READ, CONVERSATION).space.patient_id)
        except (Forbidden, NotFound) as refused:
            if patient_id == person_id:
                refusal = refused  # their own space's answer: a minor's login is told who manages it
    if not readable:
        raise refusal
    return readable


def _still_readable_by(principal: Principal, entries: list[dict]) -> list[dict]:
    """The entries of the professional's inbox whose patient's space lets them read it now."""
    seen = spaces.load_as_seen_by([e["patient_id"] for e in entries], principal.rpps)
    now = clock.now()
    readable = {
        patient_id
        for patient_id, items in seen.items()
        if decide(actor_of(principal, items), to_space(items), READ, CONVERSATION, now).allowed
    }
    return [e for e in entries if e["patient_id"] in readable]


def _open_subjects(entries: list[dict]) -> list[str]:
    def open_subject(entry: dict) -> str:
        context = _subject_context(entry["patient_id"], entry["conversation_id"])
        try:
            return crypto.unseal(entry["subject_sealed"], context)
        except crypto.CannotDecrypt as error:
            logs.error("conversation subject failed to decrypt", conversation_id=entry["conversation_id"])
            raise blobs.IntegrityError("This inbox cannot be read: a stored subject is not the one written.") from error

    return concurrency.map_concurrently(open_subject, entries)


def _load_body(patient_id: str, item: dict) -> dict:
    context = _context(patient_id, item["conversation_id"], item["message_id"], "body")
    return json.loads(CONTENT.load(item["object_key"], context, item["sha256"]))


def list_messages(principal: Principal, conversation_id: str, limit: int, cursor: str | None) -> MessagePage:
    """Oldest first; the messages of the other participant on this page are marked read."""
    granted, entries, role = _participant(principal, conversation_id, READ)
    patient_id = granted.space.patient_id
    list_scope = scope("messages", principal, conversation_id=conversation_id)
    items, last_key = store.messages_page(conversation_id, limit, decode_cursor(cursor, list_scope))
    mine, other = entries[role], entries[store.PROFESSIONAL if role == store.PATIENT else store.PATIENT]
    previous = mine.get("last_read")
    other_read = other.get("last_read") or ""
    out = []
    envelopes = concurrency.map_concurrently(lambda item: _load_body(patient_id, item), items)  # S3 + KMS each
    for item, envelope in zip(items, envelopes, strict=True):
        names = envelope.get("filenames", [])
        out.append(
            Message(
                message_id=item["message_id"],
                author=ActorRef(role=item["author_role"], id=item["author_id"]),
                body=envelope["body"],
                sent_at=item["sent_at"],
                attachments=[
                    AttachmentOut(
                        index=int(a["index"]),
                        filename=names[int(a["index"])],
                        media_type=a["media_type"],
                        size=int(a["size"]),
                    )
                    for a in item.get("attachments", [])
                ],
                read=_read_by_recipient(item, role, mine, other_read),
            )
        )
    newly = [i for i in items if _side(i) != role and (previous is None or i["message_id"] > previous)]
    if newly:
        last = max(i["message_id"] for i in newly)
        mark = store.mark_read(conversation_id, role, previous, last, len(newly))
        with contextlib.suppress(journal.StateChanged):  # another read of this inbox moved the mark first
            journal.commit(
                patient_id,
                granted.actor_ref,
                "conversation.read",
                conversation_id,
                writes=[mark],
            )
    return MessagePage(items=out, next_cursor=encode_cursor(last_key, list_scope))


def _side(message: dict) -> str:
    """The side its author wrote for: a representative writes on the patient's side."""
    return store.PROFESSIONAL if message["author_role"] == store.PROFESSIONAL else store.PATIENT


def _read_by_recipient(item: dict, reader_role: str, mine: dict, other_read: str) -> bool:
    if _side(item) == reader_role:  # my side's: has the other side read it?
        return bool(other_read) and item["message_id"] <= other_read
    return True  # theirs: the caller is reading it now


def attachment(principal: Principal, conversation_id: str, message_id: str, index: str) -> Raw:
    granted, _, _ = _participant(principal, conversation_id, READ)
    item = store.get_message(conversation_id, message_id)
    parts = {str(a["index"]): a for a in (item or {}).get("attachments", [])}
    if item is None or index not in parts:
        raise NotFound("No such attachment.")
    part = parts[index]
    patient_id = granted.space.patient_id
    context = _context(patient_id, conversation_id, message_id, f"attachment-{int(part['index'])}")
    data = CONTENT.load(part["object_key"], context, part["sha256"])
    journal.record(patient_id, granted.actor_ref, "message.attachment_read", message_id)
    body = data.decode("utf-8") if part["media_type"] == "text/plain" else data
    return Raw(body=body, content_type=part["media_type"])


def purge_space(patient_id: str, actor: ActorRef) -> int:
    """Closure with immediate deletion: every conversation of the patient goes, on both sides (the
    person asked for their data to be deleted, and a conversation's messages are theirs as much as
    the professional's), content first."""
    inbox = store.patient_inbox(patient_id)
    for entry in inbox:
        items = store.conversation_items(entry["conversation_id"])
        for message in (item for item in items if item["sk"].startswith(layout.MESSAGE_PREFIX)):
            for key in [message["object_key"], *(part["object_key"] for part in message.get("attachments", []))]:
                CONTENT.discard(key)
        purge.delete(items, layout.MESSAGING_TABLE)
        journal.record(patient_id, actor, "conversation.deleted", entry["conversation_id"])
    return len(inbox)
