"""Reading IHE XDM archives (chalicelib/documents/xdm.py): pure, no AWS. Every hostile kind is
refused as a whole with its code; a valid archive gives back each entry, checked."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

import pytest

from chalicelib.documents import xdm
from tests.conftest import make_ins
from tests.xdm_factory import (
    BILLION_LAUGHS,
    CDA,
    EXTERNAL_ENTITY,
    PDF,
    Doc,
    archive,
    bomb,
    declared_bomb,
    metadata,
    rpps,
)

INS = make_ins(42)


def _rejected(data: bytes) -> xdm.Rejected:
    with pytest.raises(xdm.Rejected) as caught:
        xdm.read(data)
    return caught.value


def test_a_valid_archive_gives_every_entry_with_its_metadata():
    docs = [
        Doc(),
        Doc(content=CDA, media_type="text/xml", type_code="11502-2", author=rpps(2), confidentiality=("MASQUE_PS",)),
        Doc(
            confidentiality=("INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX"),
            creation_time="20190101",
            title="x" * 300,
        ),
    ]
    first, second, third = xdm.read(archive(INS, docs))
    assert (first.position, first.ins, first.unique_id, first.author_rpps) == (1, INS, docs[0].unique_id, rpps(1))
    assert first.created == datetime(2015, 3, 12, 9, 30, tzinfo=UTC)
    assert (first.title, first.type_code, first.media_type, first.content) == (
        "Compte rendu de consultation",
        "11488-4",
        "application/pdf",
        PDF,
    )
    assert not (first.masked or first.invisible_to_patient or first.hidden_from_representatives)
    assert (second.author_rpps, second.type_code, second.media_type, second.content) == (
        rpps(2),
        "11502-2",
        "text/xml",
        CDA,
    )
    assert second.masked and not second.invisible_to_patient and not second.hidden_from_representatives
    assert third.invisible_to_patient and third.hidden_from_representatives and not third.masked
    assert third.created == datetime(2019, 1, 1, tzinfo=UTC)
    assert len(third.title) == xdm.MAX_TITLE and third.title.endswith("…")


def test_advance_directives_come_under_the_ans_code_system():
    """EXPPAT_3 "Directives anticipées" is TRE_A05's, not LOINC's (docs/fhir.md § Document types)."""
    (entry,) = xdm.read(archive(INS, [Doc(type_code="EXPPAT_3", type_scheme="1.2.250.1.213.1.1.4.12")]))
    assert entry.type_code == "EXPPAT_3"


def test_the_author_id_may_be_the_bare_rpps_and_the_patient_only_in_source_patient_id():
    doc = Doc(author_id=rpps(3))
    xml = metadata(INS, [doc], ["DOC0001.PDF"])
    without_patient_id = re.sub(rf'<rim:ExternalIdentifier identificationScheme="{xdm.PATIENT_ID}"[^>]*/>', "", xml)
    assert without_patient_id != xml
    (entry,) = xdm.read(archive(INS, [doc], metadata_xml=without_patient_id))
    assert (entry.author_rpps, entry.ins) == (rpps(3), INS)


def test_a_long_uri_split_over_numbered_values_is_joined():
    doc = Doc(file_name="A_LONG_NAME.PDF", uri="2|NAME.PDF</rim:Value><rim:Value>1|A_LONG_")
    (entry,) = xdm.read(archive(INS, [doc]))
    assert entry.content == PDF


def test_an_empty_record_has_no_entries():
    assert xdm.read(archive(INS, [])) == []


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


HOSTILE = {
    "not a zip": (lambda: b"PK\x03\x04 not really", "unreadable_archive"),
    "zip bomb: 64 MiB declared as 1,000 bytes": (lambda: bomb(INS), "unreadable_archive"),
    "zip bomb: 9 MiB declared honestly": (lambda: declared_bomb(INS), "entry_too_large"),
    "too many entries": (
        lambda: _zip({f"IHE_XDM/SUBSET01/F{n}": b"" for n in range(xdm.MAX_ENTRIES + 1)}),
        "too_many_entries",
    ),
    "entry with ..": (lambda: archive(INS, [Doc()], extra={"IHE_XDM/../../evil.sh": b"#!"}), "unsafe_path"),
    "absolute entry": (lambda: archive(INS, [Doc()], extra={"/etc/cron.d/evil": b"*"}), "unsafe_path"),
    "drive letter": (lambda: archive(INS, [Doc()], extra={"C:/Windows/evil.bat": b"x"}), "unsafe_path"),
    "backslashes": (lambda: archive(INS, [Doc()], extra={"..\\evil.bat": b"x"}), "unsafe_path"),
    "uri leaving the subset": (lambda: archive(INS, [Doc(uri="../../README.TXT")]), "unsafe_path"),
    "uri with a scheme": (lambda: archive(INS, [Doc(uri="http://example.test/doc.pdf")]), "unsafe_path"),
    "no metadata": (lambda: _zip({"IHE_XDM/SUBSET01/DOC0001.PDF": PDF}), "missing_metadata"),
    "billion laughs": (lambda: archive(INS, [Doc()], metadata_xml=BILLION_LAUGHS), "unsafe_xml"),
    "external entity": (lambda: archive(INS, [Doc()], metadata_xml=EXTERNAL_ENTITY), "unsafe_xml"),
    "not xml": (lambda: archive(INS, [Doc()], metadata_xml="<lcm:Submit"), "invalid_metadata"),
    "not a SubmitObjectsRequest": (lambda: archive(INS, [Doc()], metadata_xml="<root/>"), "invalid_metadata"),
    "missing file": (lambda: archive(INS, [Doc()], skip={"DOC0001.PDF"}), "missing_document"),
    "hash mismatch": (lambda: archive(INS, [Doc(sha1="0" * 40)]), "hash_mismatch"),
    "size mismatch": (lambda: archive(INS, [Doc(size=len(PDF) + 1)]), "size_mismatch"),
    "type code not LOINC": (lambda: archive(INS, [Doc(type_scheme="1.2.250.1.213.1.1.4.12")]), "unknown_type_code"),
    "advance directives named LOINC": (lambda: archive(INS, [Doc(type_code="EXPPAT_3")]), "unknown_type_code"),
    "document over 4 MiB": (
        lambda: archive(INS, [Doc(content=b"%PDF-" + b"0" * (4 * 1024 * 1024))]),
        "payload_too_large",
    ),
    "unknown DMP confidentiality code": (
        lambda: archive(INS, [Doc(confidentiality=("SECRET_DEFENSE",))]),
        "unknown_confidentiality_code",
    ),
    "invalid INS": (lambda: archive(INS[:-2] + ("00" if INS[-2:] != "00" else "01"), [Doc()]), "invalid_ins"),
    "author without RPPS (ADELI)": (lambda: archive(INS, [Doc(author_id="0751234567")]), "invalid_rpps"),
    "creation time in the future": (lambda: archive(INS, [Doc(creation_time="29990101")]), "invalid_metadata"),
    "creation time malformed": (lambda: archive(INS, [Doc(creation_time="2015-03-12")]), "invalid_metadata"),
    "two patients": (lambda: archive(INS, [Doc(), Doc(ins=make_ins(43))]), "several_patients"),
    "same uniqueId twice": (lambda: archive(INS, [Doc(unique_id="1.2.3"), Doc(unique_id="1.2.3")]), "invalid_metadata"),
    "over 64 MiB": (lambda: b"\0" * (xdm.MAX_ARCHIVE_BYTES + 1), "archive_too_large"),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_archive_is_refused_with_its_reason(kind):
    build, code = HOSTILE[kind]
    rejected = _rejected(build())
    assert rejected.code == code
    assert rejected.message and INS not in rejected.message


def test_one_bad_entry_refuses_the_whole_archive():
    assert _rejected(archive(INS, [Doc(), Doc(), Doc(sha1="f" * 40)])).code == "hash_mismatch"
