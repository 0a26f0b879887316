from __future__ import annotations

from pydantic import Field, field_validator

from chalicelib.core.http.fields import MediaType, Rpps
from chalicelib.core.http.pagination import Page, PageQuery
from chalicelib.core.models import ActorRef, Model, Strict
from chalicelib.core.security.identifiers import PROFESSIONS

MAX_ATTACHMENTS = 5


class AttachmentIn(Strict):
    filename: str = Field(min_length=1, max_length=255)
    media_type: MediaType
    content_base64: str = Field(
        min_length=1, description="The file's bytes, base64 encoded (4 MiB at most once decoded)."
    )

    @field_validator("filename")
    @classmethod
    def plain_name(cls, value: str) -> str:
        if any(c in value for c in "/\\") or any(ord(c) < 32 for c in value):
            raise ValueError("a file name, without folders or control characters")
        return value


class ConversationCreate(Strict):
    patient_id: str = Field(min_length=1, max_length=100)
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class MessageCreate(Strict):
    body: str = Field(min_length=1, max_length=20000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class Opened(Model):
    conversation_id: str
    message_id: str
    sent_at: str


class Sent(Model):
    conversation_id: str
    message_id: str
    sent_at: str


class ProfessionalRef(Model):
    rpps: str
    name: str


class Conversation(Model):
    conversation_id: str
    subject: str
    professional: ProfessionalRef
    patient_id: str
    created_at: str
    last_message_at: str
    unread: int = Field(description="Messages from the other participant the caller has not read yet.")


class ConversationPage(Page[Conversation]):
    pass


class AttachmentOut(Model):
    index: int
    filename: str
    media_type: str
    size: int


class Message(Model):
    message_id: str
    author: ActorRef
    body: str
    sent_at: str
    attachments: list[AttachmentOut]
    read: bool = Field(description="Whether the recipient (the participant who did not write it) has read it.")


class MessagePage(Page[Message]):
    pass


class MessageQuery(PageQuery):
    pass


class DirectoryEntryIn(Strict):
    rpps: Rpps
    name: str = Field(min_length=1, max_length=200)
    profession: str = Field(description="One of the professions of a token's profession claim (docs/api.md § Tokens).")

    @field_validator("profession")
    @classmethod
    def known_profession(cls, value: str) -> str:
        if value not in PROFESSIONS:
            raise ValueError("one of: " + ", ".join(sorted(PROFESSIONS)))
        return value


class DirectoryEntry(Model):
    address: str
    rpps: str
    name: str
    profession: str
