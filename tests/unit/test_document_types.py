"""The document type ↔ LOINC table (chalicelib/core/policy/document_types.py): pure data, no network.

The pinned pairs were checked against the ANS terminology IG release 1.14.0
(ansforge/IG-terminology-website-release, commit 08e32a7dc7b4911e3e45c034e3dea7a890a2604b):
JDV_J66-TypeCode-DMP version 20240927120000, JDV_J07-XdsTypeCode-CISIS version 20260629120000."""

from __future__ import annotations

import re

import pytest

from chalicelib.core.policy import document_types
from chalicelib.core.policy.matrix import DOCUMENT_TYPES

# (code, official display) as in JDV_J66-TypeCode-DMP 20240927120000.
IN_J66 = {
    "57833-6": "Prescription de produits de santé",
    "57832-8": "Prescription de soins",
    "34112-3": "CR hospitalier (séjour)",
    "11490-0": "Lettre de liaison à la sortie d'un établissement de soins",
    "34874-8": "CR opératoire",
    "15508-5": "CR d'accouchement",
    "11488-4": "CR ou fiche de consultation ou de visite",
    "11506-3": "CR ou fiche de suivi de soins par auxiliaire médical",
    "34794-8": "CR de réunion de concertation pluridisciplinaire",
    "11502-2": "CR d'examens biologiques",
    "60568-3": "CR d'anatomie et de cytologie pathologiques",
    "18748-4": "CR d'imagerie médicale",
    "87273-9": "Note de vaccination",
    "11369-6": "Historique des vaccinations",
    "60591-5": "Synthèse médicale",
    "34133-9": "Synthèse d'épisode de soins",
    "18776-5": "Plan personnalisé de soins",
    "47420-5": "CR de bilan fonctionnel",
    # of the ANS code system TRE_A05-TypeDocComplementaire, in J66 and J07: no LOINC code in either
    "EXPPAT_3": "Directives anticipées",
}
# In JDV_J07-XdsTypeCode-CISIS 20260629120000 but not in J66.
J07_ONLY = {"51851-4": "Document administratif"}


def _pairs() -> list[tuple[str, str, str]]:
    return [
        (document_type, code, display)
        for document_type, codes in document_types.CODES.items()
        for code, display in codes
    ]


def test_every_type_has_codes_in_order():
    assert tuple(document_types.CODES) == DOCUMENT_TYPES
    assert all(document_types.CODES[document_type] for document_type in DOCUMENT_TYPES)


def test_every_pair_is_a_checked_one():
    table = {code: display for _, code, display in _pairs()}
    assert table == {**IN_J66, **J07_ONLY}, "a code or display differs from the checked ValueSets"


@pytest.mark.parametrize(
    "code, display",
    [
        ("11488-4", "CR ou fiche de consultation ou de visite"),
        ("34112-3", "CR hospitalier (séjour)"),
        ("11502-2", "CR d'examens biologiques"),
        ("60568-3", "CR d'anatomie et de cytologie pathologiques"),
        ("60591-5", "Synthèse médicale"),
        ("57832-8", "Prescription de soins"),
    ],
)
def test_pinned_displays(code, display):
    assert document_types.DISPLAY[code] == display


def test_codes_unique_and_map_back():
    codes = [code for _, code, _ in _pairs()]
    assert len(codes) == len(set(codes)), "a code maps to two types"
    for document_type, code, _ in _pairs():
        assert document_types.type_of(code) == document_type
        assert re.fullmatch(r"\d{1,6}-\d", code) or code in document_types.SYSTEMS, code
    assert set(document_types.ACCEPTED.split(", ")) == set(codes)


def test_own_code_is_first():
    for document_type in DOCUMENT_TYPES:
        assert document_types.code_of(document_type) == document_types.CODES[document_type][0][0]
    assert document_types.code_of("consultation_report") == "11488-4"
    assert document_types.code_of("hospital_report") == "34112-3"
    assert document_types.code_of("lab_result") == "11502-2"


def test_advance_directives_are_named_by_the_ans_code_system():
    assert document_types.code_of("advance_directives") == "EXPPAT_3"
    assert document_types.system_of("EXPPAT_3") == (
        "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
    )
    assert document_types.oid_of("EXPPAT_3") == "1.2.250.1.213.1.1.4.12"
    assert document_types.system_of("11488-4") == document_types.LOINC
    assert document_types.oid_of("11488-4") == document_types.LOINC_OID


@pytest.mark.parametrize("code", ["18842-5", "11526-1", "34105-7", "", "DOCPAT09"])
def test_codes_outside_the_lists_are_unknown(code):
    assert document_types.type_of(code) is None
    assert code not in document_types.TYPE_OF_CODE and repr(code) in document_types.unknown_code_message(code)
