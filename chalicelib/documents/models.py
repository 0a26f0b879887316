from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.core.matrix import DOCUMENT_TYPES
from chalicelib.core.history import ActorRef
from chalicelib.core.pagination import Page, PageQuery

DocumentType = Literal[DOCUMENT_TYPES]
MediaType = Literal["application/pdf", "image/jpeg", "image/png", "text/plain"]


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: DocumentType
    title: str = Field(min_length=1, max_length=200)
    date: date
    media_type: MediaType
    content_base64: str = Field(min_length=1, description="The document's bytes, base64 encoded (4 MiB at most once decoded).")
    invisible_to_patient: bool = Field(False, description="Professionals only: hidden from the patient until explained in person (30 days at most).")

    @field_validator("date")
    @classmethod
    def not_in_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("the document's date cannot be in the future")
        return value


class DocumentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    masked: bool | None = Field(None, description="Patient only: hide from every professional but the author and the treating doctor.")
    invisible_to_patient: Literal[False] | None = Field(None, description="Author only: false releases a document kept invisible to the patient.")


class DocumentQuery(PageQuery):
    type: DocumentType | None = None


class Document(BaseModel):
    document_id: str
    type: str
    title: str
    date: str
    media_type: str
    size: int
    sha256: str
    author: ActorRef
    created_at: str
    masked: bool
    invisible_to_patient: bool
    hidden_from_representatives: bool = False


class DocumentPage(Page[Document]):
    pass
