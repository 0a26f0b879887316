"""Profession × document type matrix: which document types each profession may READ.

docs/domain.md (§ Who may see what) requires such a matrix ("a podiatrist does not read hospital
reports") but does not give its content. The table below is OUR DEFAULT; it must be described in
docs/choices.md as such. It only limits reading documents deposited by others: depositing is not
limited by profession, an author always reads their own document, and the occupational doctor
still needs the patient's explicit grant on top of this table.

Data only: stdlib, no I/O, immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

DOCUMENT_TYPES: tuple[str, ...] = (
    "prescription",
    "hospital_report",
    "consultation_report",
    "lab_result",
    "imaging_report",
    "vaccination_record",
    "care_summary",
    "other",
    "advance_directives",  # directives anticipées (CSP L1111-11)
)

_ALL = frozenset(DOCUMENT_TYPES)

# profession (JWT `profession` claim) -> document types it may read.
PROFESSION_READABLE_DOCUMENT_TYPES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "medecin": _ALL,
        "sage_femme": _ALL,
        "pharmacien": frozenset({"prescription", "lab_result", "vaccination_record", "care_summary", "other"}),
        "infirmier": frozenset(
            {
                "advance_directives",  # end-of-life care at home is theirs too
                "prescription",
                "lab_result",
                "vaccination_record",
                "care_summary",
                "consultation_report",
                "other",
            }
        ),
        "chirurgien_dentiste": frozenset(
            {
                "prescription",
                "imaging_report",
                "lab_result",
                "vaccination_record",
                "care_summary",
                "other",
            }
        ),
        "masseur_kinesitherapeute": frozenset(
            {"prescription", "imaging_report", "consultation_report", "care_summary", "other"}
        ),
        "pedicure_podologue": frozenset({"prescription", "care_summary", "other"}),
        "medecin_du_travail": frozenset({"vaccination_record", "care_summary", "other"}),
    }
)


def readable_document_types(profession: str | None) -> frozenset[str]:
    """Document types this profession may read; empty for an unknown profession."""
    return PROFESSION_READABLE_DOCUMENT_TYPES.get(profession or "", frozenset())
