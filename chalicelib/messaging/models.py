from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.core.history import ActorRef
from chalicelib.core.fields import MediaType
from chalicelib.core.pagination import Page, PageQuery

MAX_ATTACHMENTS = 5


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filename: str = Field(min_length=1, max_length=255)
    media_type: MediaType
    content_base64: str = Field(min_length=1, description="The file's bytes, base64 encoded (4 MiB at most once decoded).")

    @field_validator("filename")
    @classmethod
    def plain_name(cls, value: str) -> str:
        if any(c in value for c in "/\\") or any(ord(c) < 32 for c in value):
            raise ValueError("a file name, without folders or control characters")
        return value


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient_id: str = Field(min_length=1, max_length=100)
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=20000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class Opened(BaseModel):
    conversation_id: str
    message_id: str
    sent_at: str


class Sent(BaseModel):
    conversation_id: str
    message_id: str
    sent_at: str


class ProfessionalRef(BaseModel):
    rpps: str
    name: str


class Conversation(BaseModel):
    conversation_id: str
    subject: str
    professional: ProfessionalRef
    patient_id: str
    created_at: str
    last_message_at: str
    unread: int = Field(description="Messages from the other participant the caller has not read yet.")


class ConversationPage(Page[Conversation]):
    pass


class AttachmentOut(BaseModel):
    index: int
    filename: str
    media_type: str
    size: int


class Message(BaseModel):
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
