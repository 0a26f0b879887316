from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.core import clock
from chalicelib.core.http.fields import MediaType
from chalicelib.core.http.pagination import Page, PageQuery
from chalicelib.core.models import ActorRef, Model, Strict
from chalicelib.core.policy import document_types
from chalicelib.core.policy.matrix import DOCUMENT_TYPES

DocumentType = Literal[DOCUMENT_TYPES]  # type: ignore[valid-type]  # pydantic reads a tuple in Literal, mypy cannot
Status = Literal["current", "superseded"]
Day = date  # in DocumentCreate, the field named date hides the type


class DocumentCreate(Strict):
    type: DocumentType
    title: str = Field(min_length=1, max_length=200)
    date: date
    media_type: MediaType
    content_base64: str = Field(
        min_length=1, description="The document's bytes, base64 encoded (4 MiB at most once decoded)."
    )
    invisible_to_patient: bool = Field(
        False, description="Professionals only: hidden from the patient until explained in person (30 days at most)."
    )
    hidden_from_representatives: bool = Field(
        False,
        description="Professionals only, on a minor's space (else 400): the minor's secret (CSP L1111-5). The legal "
        "representatives never learn the document exists (lists, counts, export, history); "
        "its author may lift it once.",
    )
    type_code: str | None = Field(
        None,
        description="The LOINC code of the DMP's list refining `type` (docs/fhir.md); default: the type's own code.",
    )
    replaces: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="The document_id of an older document of the same author: it becomes superseded.",
    )

    @field_validator("date")
    @classmethod
    def not_in_future(cls, value: Day) -> Day:
        if value > clock.latest_date():
            raise ValueError("the document's date cannot be in the future")
        return value

    @model_validator(mode="after")
    def code_of_type(self) -> DocumentCreate:
        if self.type_code is not None and document_types.type_of(self.type_code) != self.type:
            raise ValueError(
                f"type_code must be a LOINC code of the type {self.type}: one of "
                f"{', '.join(code for code, _ in document_types.CODES[self.type])}"
            )
        return self


class DocumentPatch(Model):
    model_config = ConfigDict(extra="forbid")

    masked: bool | None = Field(
        None, description="Patient only: hide from every professional but the author and the treating doctor."
    )
    invisible_to_patient: Literal[False] | None = Field(
        None, description="Author only: false releases a document kept invisible to the patient."
    )
    hidden_from_representatives: bool | None = Field(
        None,
        description="Author only: false lifts the minor's secret, for good; "
        "true is refused (409): a secret is set at deposit only.",
    )


class DocumentQuery(PageQuery):
    type: DocumentType | None = None
    status: Status = Field(
        "current", description="current (default), or superseded: the documents a newer one replaced."
    )


class Document(Model):
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
    hidden_from_representatives: bool = Field(
        False, description="Kept secret from the legal representatives of the minor (the minor's secret)."
    )
    type_code: str = Field(description="The LOINC code of the type (docs/fhir.md).")
    status: Status = "current"
    replaced_by: str | None = Field(None, description="The document that superseded this one.")
    replaces: str | None = Field(None, description="The document this one superseded.")
    master_identifier: str | None = Field(
        None,
        description="Its identifier at its source, as written there: "
        "for a document imported from the legacy DMP, its XDS uniqueId (FHIR: masterIdentifier).",
    )


class DocumentPage(Page[Document]):
    pass
