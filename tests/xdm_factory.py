"""IHE XDM archives for the tests: valid ones (an ebRIM SubmitObjectsRequest beside the documents
it lists, as the legacy DMP exports them) and every hostile kind the importer must refuse."""

from __future__ import annotations

import hashlib
import io
import itertools
import struct
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from chalicelib.core.policy.document_types import CONFIDENTIALITY_OID
from chalicelib.core.security.identifiers import IDNATPS_OID, INS_OID, rpps_check_digit
from chalicelib.documents import xdm

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CDA = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Compte rendu</title>'
    b"<component><nonXMLBody><text>Patient vu en consultation. Examen normal.</text></nonXMLBody></component>"
    b"</ClinicalDocument>\n"
)
_unique = itertools.count(1)


def rpps(n: int) -> str:
    """A valid RPPS number, different for each n."""
    first10 = f"1{n:09d}"
    return first10 + rpps_check_digit(first10)


@dataclass
class Doc:
    """One document entry and its file; overrides make it hostile."""

    content: bytes = PDF
    media_type: str = "application/pdf"
    type_code: str = "11488-4"  # CR ou fiche de consultation ou de visite (JDV_J66)
    type_scheme: str = "2.16.840.1.113883.6.1"
    title: str = "Compte rendu de consultation"
    author: str = field(default_factory=lambda: rpps(1))
    author_id: str | None = None  # the XCN's id; default: "8" + RPPS, the DMP's IdNatPs
    creation_time: str = "20150312093000"
    confidentiality: tuple[str, ...] = ()  # INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX, MASQUE_PS
    unique_id: str = field(default_factory=lambda: f"1.2.250.1.999.1.{next(_unique)}")
    file_name: str | None = None  # default DOC<n>.<ext>
    uri: str | None = None  # default: file_name
    sha1: str | None = None  # default: of content
    size: int | None = None  # default: of content
    ins: str | None = None  # default: the archive's


def _slot(name: str, *values: str) -> str:
    inner = "".join(f"<rim:Value>{value}</rim:Value>" for value in values)
    return f'<rim:Slot name="{name}"><rim:ValueList>{inner}</rim:ValueList></rim:Slot>'


def _classification(scheme: str, obj: str, code: str, coding_scheme: str, *slots: str) -> str:
    return (
        f'<rim:Classification classificationScheme="{scheme}" classifiedObject="{obj}" nodeRepresentation="{code}">'
        f"{''.join(slots)}{_slot('codingScheme', coding_scheme)}</rim:Classification>"
    )


def _cx(ins: str) -> str:
    return f"{ins}^^^&amp;{INS_OID}&amp;ISO"


def metadata(ins: str, docs: list[Doc], names: list[str]) -> str:
    entries = []
    for n, (doc, name) in enumerate(zip(docs, names, strict=True), start=1):
        obj = f"Document{n:02d}"
        xcn = f"{doc.author_id or xdm.RPPS_PREFIX + doc.author}^MARTIN^Jeanne^^^^^^&amp;{IDNATPS_OID}&amp;ISO"
        confidentiality = "".join(
            _classification(xdm.CONFIDENTIALITY, obj, code, f"urn:oid:{CONFIDENTIALITY_OID}")
            for code in doc.confidentiality
        )
        entries.append(
            f'<rim:ExtrinsicObject id="{obj}" mimeType="{doc.media_type}" objectType="{xdm.DOCUMENT_ENTRY}">'
            + _slot("creationTime", doc.creation_time)
            + _slot("hash", doc.sha1 or hashlib.sha1(doc.content).hexdigest())  # noqa: S324 - XDS's hash
            + _slot("size", str(len(doc.content) if doc.size is None else doc.size))
            + _slot("sourcePatientId", _cx(doc.ins or ins))
            + _slot("URI", doc.uri if doc.uri is not None else name)
            + f"<rim:Name><rim:LocalizedString value={quoteattr(doc.title)}/></rim:Name>"
            + f'<rim:Classification classificationScheme="{xdm.AUTHOR}" classifiedObject="{obj}" nodeRepresentation="">'
            + _slot("authorPerson", xcn)
            + "</rim:Classification>"
            + _classification(xdm.TYPE_CODE, obj, doc.type_code, doc.type_scheme)
            + _classification(xdm.CONFIDENTIALITY, obj, "N", "2.16.840.1.113883.5.25")
            + confidentiality
            + f'<rim:ExternalIdentifier identificationScheme="{xdm.PATIENT_ID}" registryObject="{obj}" '
            + f'value="{_cx(doc.ins or ins)}"/>'
            + f'<rim:ExternalIdentifier identificationScheme="{xdm.UNIQUE_ID}" registryObject="{obj}" '
            + f'value="{doc.unique_id}"/>'
            + "</rim:ExtrinsicObject>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<lcm:SubmitObjectsRequest xmlns:lcm="{xdm.LCM}" xmlns:rim="{xdm.RIM}"><rim:RegistryObjectList>'
        + "".join(entries)
        + "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
    )


def _name(n: int, doc: Doc) -> str:
    extension = {
        "application/pdf": "PDF",
        "text/xml": "XML",
        "text/plain": "TXT",
        "image/png": "PNG",
        "image/jpeg": "JPG",
    }
    return doc.file_name or f"DOC{n:04d}.{extension.get(doc.media_type, 'BIN')}"


def archive(
    ins: str,
    docs: list[Doc],
    *,
    metadata_xml: str | None = None,
    extra: dict[str, bytes] | None = None,
    skip: frozenset[str] | set[str] = frozenset(),
) -> bytes:
    """An XDM ZIP: README, IHE_XDM/SUBSET01/METADATA.XML and the documents (minus ``skip``), plus ``extra`` entries."""
    names = [_name(n, doc) for n, doc in enumerate(docs, start=1)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.TXT", "Export du DMP\n")
        zf.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata_xml or metadata(ins, docs, names))
        for doc, name in zip(docs, names, strict=True):
            if name not in skip:
                zf.writestr(f"IHE_XDM/SUBSET01/{name}", doc.content)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


# --- hostile archives -----------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
    '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
    f'<lcm:SubmitObjectsRequest xmlns:lcm="{xdm.LCM}">&lol3;</lcm:SubmitObjectsRequest>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    f'<lcm:SubmitObjectsRequest xmlns:lcm="{xdm.LCM}">&secret;</lcm:SubmitObjectsRequest>'
)


def bomb(ins: str, declared: int = 1000) -> bytes:
    """A valid archive plus 64 MiB of zeros (64 KB compressed) whose headers declare ``declared``
    bytes: zipfile must stop at the declared size, and the checksum then fails."""
    zeros = "IHE_XDM/SUBSET01/ZEROS.BIN"
    return _declare_size(archive(ins, [Doc()], extra={zeros: b"\0" * (64 * 1024 * 1024)}), zeros, declared)


def _declare_size(data: bytes, name: str, declared: int) -> bytes:
    """Rewrites an entry's uncompressed size in its local header and its directory record."""
    patched = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        struct.pack_into("<I", patched, zf.getinfo(name).header_offset + 22, declared)
    end = data.rfind(b"PK\x05\x06")
    count, _, record = struct.unpack_from("<HII", data, end + 10)
    for _ in range(count):
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, record + 28)
        if data[record + 46 : record + 46 + name_length].decode() == name:
            struct.pack_into("<I", patched, record + 24, declared)
        record += 46 + name_length + extra_length + comment_length
    return bytes(patched)


def declared_bomb(ins: str) -> bytes:
    """An entry that honestly declares 9 MiB of zeros: over every entry's cap."""
    return archive(ins, [Doc()], extra={"IHE_XDM/SUBSET01/ZEROS.BIN": b"\0" * (9 * 1024 * 1024)})
