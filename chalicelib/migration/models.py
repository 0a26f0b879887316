from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from chalicelib.core.http.pagination import Page, PageQuery
from chalicelib.core.models import Model

Status = Literal["running", "done", "failed"]


class MigrationSource(Model):
    bucket: str = Field(description="The stack's import bucket: put the archives (IHE XDM ZIPs) there, under a prefix.")


class MigrationStart(Model):
    model_config = ConfigDict(extra="forbid")  # not Strict: a key prefix is kept as given, spaces and all

    prefix: str = Field(
        min_length=1,
        max_length=1024,
        description='The key prefix of the archives in the import bucket, e.g. "dmp/2026-01/".',
    )

    @field_validator("prefix")
    @classmethod
    def a_key_prefix(cls, value: str) -> str:
        if value.startswith("/") or any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ValueError("an S3 key prefix: no leading '/', no control characters")
        return value


class Migration(Model):
    migration_id: str
    prefix: str
    status: Status
    started_at: str


class Counts(Model):
    archives: int = Field(description="Archives processed so far: imported + duplicates + rejected.")
    imported: int
    duplicates: int = Field(description="Archives whose documents were all imported before (by an earlier migration).")
    rejected: int
    documents: int = Field(description="Documents imported.")


class ProblemDetail(Model):
    code: str
    message: str


class MigrationProgress(Migration):
    finished_at: str | None = None
    counts: Counts
    error: ProblemDetail | None = Field(None, description="Why a failed migration stopped.")


class RejectQuery(PageQuery):
    pass


class Reject(Model):
    archive: str = Field(description="The archive's key in the import bucket.")
    error: ProblemDetail


class RejectPage(Page[Reject]):
    pass
