"""Document types and their LOINC codes (DMP list JDV_J07-XdsTypeCode-CISIS, system LOINC
2.16.840.1.113883.6.1): the one mapping used wherever a document arrives or leaves with a LOINC
``typeCode`` (legacy XDM archives, the FHIR interface).

``ACCEPTED`` maps every code we take to this API's ``type``; several codes share a type, and
``loinc_of`` gives the one code we send for each type. A code not listed is refused (the
document could not be placed in the profession × type matrix). Data only: stdlib, no I/O.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

LOINC_OID = "2.16.840.1.113883.6.1"
LOINC_SYSTEM = "http://loinc.org"

ACCEPTED: Mapping[str, str] = MappingProxyType(
    {
        "57833-6": "prescription",  # Prescription de produits de santé
        "57832-8": "prescription",  # Prescription de soins ou d'examens
        "11490-0": "hospital_report",  # Lettre de liaison à la sortie d'un établissement
        "18842-5": "hospital_report",  # Synthèse de sortie (discharge summary)
        "34112-3": "hospital_report",  # Compte rendu d'hospitalisation
        "34874-8": "hospital_report",  # Compte rendu opératoire
        "11488-4": "consultation_report",  # Compte rendu de consultation
        "11502-2": "lab_result",  # Compte rendu d'examens de biologie médicale
        "11526-1": "lab_result",  # Compte rendu d'anatomie et de cytologie pathologiques
        "18748-4": "imaging_report",  # Compte rendu d'imagerie médicale
        "87273-9": "vaccination_record",  # Note de vaccination
        "11369-6": "vaccination_record",  # Historique des vaccinations
        "60591-5": "care_summary",  # Synthèse médicale
        "34133-9": "care_summary",  # Synthèse d'épisode de soins
        "51851-4": "other",  # Document administratif
    }
)

_CANONICAL: Mapping[str, str] = MappingProxyType(
    {
        "prescription": "57833-6",
        "hospital_report": "11490-0",
        "consultation_report": "11488-4",
        "lab_result": "11502-2",
        "imaging_report": "18748-4",
        "vaccination_record": "87273-9",
        "care_summary": "60591-5",
        "other": "51851-4",
    }
)


def type_of(loinc_code: str) -> str | None:
    """This API's document type for a LOINC code of the DMP's list; None if we do not take it."""
    return ACCEPTED.get(loinc_code.strip())


def loinc_of(document_type: str) -> str:
    """The LOINC code we give a document of this type."""
    return _CANONICAL[document_type]
