"""This API's document ``type`` ↔ the codes of the DMP's document type list (LOINC, and the ANS's own).

Professional software (PDSm, IHE MHD) and the legacy DMP archives (XDS ``typeCode``) name a
document's type with a LOINC code of the DMP's list (JDV_J66-TypeCode-DMP, a subset of
JDV_J07-XdsTypeCode-CISIS, ANS CI-SIS nomenclatures); this API names it with one of
``matrix.DOCUMENT_TYPES``. Several codes map to one type; the first code of each type is the one
given for documents deposited without a code (the native API). docs/fhir.md shows the table and
its source. Data only: stdlib, no I/O.

Checked against the ANS terminology IG release (github.com/ansforge/IG-terminology-website-release,
commit 08e32a7dc7b4911e3e45c034e3dea7a890a2604b, www/terminologies/1.14.0/): JDV_J66-TypeCode-DMP
version 20240927120000 and JDV_J07-XdsTypeCode-CISIS version 20260629120000. Every code below is in
J66 with exactly its display there, except 51851-4 "Document administratif", which is in J07 only
(J66 has no LOINC code for an administrative document), kept as ``other``'s own code.

``advance_directives`` has no LOINC code in either list: both give it EXPPAT_3 "Directives anticipées"
of the ANS code system TRE_A05-TypeDocComplementaire (OID 1.2.250.1.213.1.1.4.12, version
20240329120000), the same release's ValueSet-JDV-J66-TypeCode-DMP.json.html and
ValueSet-JDV-J07-XdsTypeCode-CISIS (docs/fhir.md § Document types). Its system is given with it
(``system_of``, ``oid_of``): FHIR codings and XDS typeCodes name it by that system, not LOINC's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from chalicelib.core.policy.matrix import DOCUMENT_TYPES

LOINC = "http://loinc.org"
LOINC_OID = "2.16.840.1.113883.6.1"  # LOINC's system in XDS metadata
CONFIDENTIALITY_OID = "1.2.250.1.213.1.1.4.13"  # the DMP's confidentiality codes (masking, invisibility)
CONFIDENTIALITY_SYSTEM = f"urn:oid:{CONFIDENTIALITY_OID}"
# The ANS's document types beside LOINC's (TRE_A05-TypeDocComplementaire): canonical URL and OID.
TRE_A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
TRE_A05_OID = "1.2.250.1.213.1.1.4.12"

# type -> ((code, display exactly as in JDV_J66 / JDV_J07), ...): the first is the type's own code.
# LOINC codes, except those of ``SYSTEMS``.
CODES: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "prescription": (
            ("57833-6", "Prescription de produits de santé"),
            ("57832-8", "Prescription de soins"),
        ),
        "hospital_report": (
            ("34112-3", "CR hospitalier (séjour)"),
            ("11490-0", "Lettre de liaison à la sortie d'un établissement de soins"),
            ("34874-8", "CR opératoire"),
            ("15508-5", "CR d'accouchement"),
        ),
        "consultation_report": (
            ("11488-4", "CR ou fiche de consultation ou de visite"),
            ("11506-3", "CR ou fiche de suivi de soins par auxiliaire médical"),
            ("34794-8", "CR de réunion de concertation pluridisciplinaire"),
        ),
        "lab_result": (
            ("11502-2", "CR d'examens biologiques"),
            ("60568-3", "CR d'anatomie et de cytologie pathologiques"),
        ),
        "imaging_report": (("18748-4", "CR d'imagerie médicale"),),
        "vaccination_record": (
            ("87273-9", "Note de vaccination"),
            ("11369-6", "Historique des vaccinations"),
        ),
        "care_summary": (
            ("60591-5", "Synthèse médicale"),
            ("34133-9", "Synthèse d'épisode de soins"),
            ("18776-5", "Plan personnalisé de soins"),
        ),
        "other": (
            ("51851-4", "Document administratif"),
            ("47420-5", "CR de bilan fonctionnel"),
        ),
        "advance_directives": (("EXPPAT_3", "Directives anticipées"),),
    }
)
# code -> (FHIR system, XDS codingScheme OID) of the codes that are not LOINC's.
SYSTEMS: Mapping[str, tuple[str, str]] = MappingProxyType({"EXPPAT_3": (TRE_A05, TRE_A05_OID)})

assert tuple(CODES) == DOCUMENT_TYPES, "every document type has its LOINC codes"  # noqa: S101 - a check of this table

TYPE_OF_CODE: Mapping[str, str] = MappingProxyType(
    {code: document_type for document_type, codes in CODES.items() for code, _ in codes}
)
DISPLAY: Mapping[str, str] = MappingProxyType({code: display for codes in CODES.values() for code, display in codes})
ACCEPTED = ", ".join(TYPE_OF_CODE)


def system_of(code: str) -> str:
    """The FHIR system naming this code: LOINC's, or the ANS's for its own types."""
    return SYSTEMS.get(code, (LOINC, LOINC_OID))[0]


def oid_of(code: str) -> str:
    """The XDS codingScheme (an OID) naming this code."""
    return SYSTEMS.get(code, (LOINC, LOINC_OID))[1]


def type_of(code: str) -> str | None:
    """This API's type for a LOINC code of the list; None for a code outside it."""
    return TYPE_OF_CODE.get(code)


def code_of(document_type: str) -> str:
    """The LOINC code standing for a type when none more precise was given."""
    return CODES[document_type][0][0]


def code_of_item(item: Mapping[str, Any]) -> str:
    """The code of a stored document: the one it came with, else its type's (documents stored
    before codes were kept)."""
    return item.get("type_code") or code_of(item["type"])


def unknown_code_message(code: str | None) -> str:
    return (
        f"The document type code {code!r} is not in the DMP's list (LOINC, {LOINC}, and {TRE_A05}): "
        f"use one of {ACCEPTED}."
    )
