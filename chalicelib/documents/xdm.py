"""Reading one IHE XDM archive (ITI TF-3 § 4 "XDM"): a ZIP holding ``IHE_XDM/<subset>/METADATA.XML``,
an ebRIM ``SubmitObjectsRequest`` whose ``ExtrinsicObject``s are the document entries, beside the
documents they name (``URI`` slot). Pure: bytes in, entries out; no AWS, no table.

Everything in an archive is hostile until checked, and any fault rejects the whole archive
(``Rejected``: a code and a message naming the entry by its position, never a value read from
the archive, so no INS can leak into a reject list):
- the ZIP: at most MAX_ARCHIVE_BYTES, MAX_ENTRIES entries (counted from the end record before
  zipfile reads the directory), no encrypted entry, no path with ``..``, absolute or with a
  drive letter, no name twice; every entry's declared size within its cap, their sum within
  MAX_TOTAL_BYTES, and every entry read (documents and the rest) with its bytes counted against
  the same caps (zipfile stops at the declared size and checks the CRC: a lying header is a
  corrupt archive, and never more than the caps is inflated);
- the XML (defusedxml): no DTD, no entity, no external reference;
- each entry: the patient's INS (patientId / sourcePatientId with assigning authority
  1.2.250.1.213.1.4.8), uniqueId, author's RPPS (authorPerson XCN, IdNatPs authority
  1.2.250.1.71.4.2.1, where the DMP writes an RPPS-based id as "8" + the 11 digits), creationTime,
  title, typeCode, DMP confidentiality codes; its file exists, and matches its ``size`` and
  ``hash`` (SHA-1);
- across entries: one patient, no uniqueId twice.
What the codes mean here (LOINC type, media type, bytes of that type) is the importer's
(documents/legacy.py), as for a deposit.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import posixpath
import re
import struct
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

from chalicelib.core.http import content
from chalicelib.core.policy import document_types
from chalicelib.core.security import identifiers

LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
# XDS.b metadata identifiers (ITI TF-3 § 4.2.5)
DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"  # stable document entry
AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
RPPS_PREFIX = "8"  # an IdNatPs built from an RPPS number: "8" + the 11 digits
CONFIDENTIALITY_FLAGS = {
    "INVISIBLE_PATIENT": "invisible_to_patient",
    "INVISIBLE_REPRESENTANTS_LEGAUX": "hidden_from_representatives",
    "MASQUE_PS": "masked",
}

MIB = 1024 * 1024
MAX_ARCHIVE_BYTES = 64 * MIB  # the ZIP itself
MAX_TOTAL_BYTES = 64 * MIB  # every entry, uncompressed
MAX_ENTRIES = 1000
MAX_DOCUMENT_BYTES = content.MAX_BYTES  # a document, as for a deposit (4 MiB)
MAX_METADATA_BYTES = 8 * MIB  # also the cap of the entries never read (README.TXT, INDEX.HTM...)
MAX_TITLE = 200
_METADATA = re.compile(r"IHE_XDM/[^/]+/METADATA\.XML", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_TIME_FORMATS = {8: "%Y%m%d", 10: "%Y%m%d%H", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
# What zipfile raises on a broken archive: BadZipFile, a corrupt stream (zlib/lzma), truncation
# (EOFError, OSError), bad fields (ValueError), a compression method it lacks (NotImplementedError),
# an encrypted entry (RuntimeError).
_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


class Rejected(Exception):
    """The archive is refused as a whole: ``code`` and a message saying what to fix."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Entry:
    """One document entry, checked against its bytes."""

    position: int  # 1-based, in the order of the metadata: how messages name it
    unique_id: str
    ins: str
    author_rpps: str
    created: datetime  # creationTime, UTC
    title: str
    type_code: str  # LOINC
    media_type: str
    masked: bool
    invisible_to_patient: bool
    hidden_from_representatives: bool
    content: bytes


def read(archive: bytes) -> list[Entry]:
    """The document entries of an XDM archive, every one checked; ``Rejected`` otherwise."""
    if len(archive) > MAX_ARCHIVE_BYTES:
        raise Rejected("archive_too_large", f"The archive is over {MAX_ARCHIVE_BYTES // MIB} MiB: split the record.")
    _check_end_record(archive)
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            files = _checked_files(zf)
            subsets = sorted(name for name in files if _METADATA.fullmatch(name))
            if not subsets:
                raise Rejected(
                    "missing_metadata", "No IHE_XDM/SUBSET01/METADATA.XML in the archive: it is not an IHE XDM archive."
                )
            budget = _Budget()
            entries: list[Entry] = []
            for metadata in subsets:
                root = _parse(budget.read(zf, files[metadata], MAX_METADATA_BYTES, "entry_too_large", "METADATA.XML"))
                subset = posixpath.dirname(metadata)
                for obj, attached in _document_objects(root):
                    entries.append(
                        _entry(
                            len(entries) + 1,
                            obj,
                            attached,
                            lambda uri, n, subset=subset: _file(zf, files, subset, uri, n, budget),
                        )
                    )
            for info in files.values():  # the rest too: a bomb must not hide in a README
                if info.filename not in budget.done and not info.is_dir():
                    budget.read(zf, info, MAX_METADATA_BYTES, "entry_too_large", "An entry of the archive")
    except _UNREADABLE as error:
        raise Rejected(
            "unreadable_archive",
            "The archive is not a readable ZIP (corrupt, truncated, encrypted or with an unknown compression).",
        ) from error
    _check_together(entries)
    return entries


def _check_end_record(archive: bytes) -> None:
    """Counts the entries from the ZIP's end record, before zipfile builds its whole directory."""
    end = archive.rfind(b"PK\x05\x06", max(0, len(archive) - 22 - 65535))
    if end < 0 or len(archive) < end + 22:
        raise Rejected("unreadable_archive", "The archive is not a ZIP file.")
    count, directory_size = struct.unpack("<HI", archive[end + 10 : end + 16])
    if count > MAX_ENTRIES or directory_size > MAX_ENTRIES * 1024:
        raise Rejected("too_many_entries", f"The archive holds more than {MAX_ENTRIES} entries: split the record.")


def _safe_path(name: str) -> bool:
    if not name or _CONTROL.search(name) or "\\" in name or name.startswith("/") or _DRIVE.match(name):
        return False
    return ".." not in name.split("/")


def _checked_files(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise Rejected("too_many_entries", f"The archive holds more than {MAX_ENTRIES} entries: split the record.")
    files: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.orig_filename  # as written: zipfile's own name is cut at a NUL
        if not _safe_path(name):
            raise Rejected(
                "unsafe_path", "An entry's path leaves the archive (.., an absolute path or a drive letter): refused."
            )
        if name in files:
            raise Rejected("unreadable_archive", "Two entries of the archive have the same name.")
        if info.flag_bits & 0x1:
            raise Rejected("unreadable_archive", "The archive holds encrypted entries: export it unencrypted.")
        if info.file_size > MAX_METADATA_BYTES:
            raise Rejected("entry_too_large", "An entry of the archive declares more bytes than any entry may hold.")
        files[name] = info
    if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        raise Rejected(
            "archive_too_large",
            f"The archive's entries add up to more than {MAX_TOTAL_BYTES // MIB} MiB: split the record.",
        )
    return files


class _Budget:
    """The bytes read from one archive, counted against the caps whatever the headers say."""

    def __init__(self) -> None:
        self.left = MAX_TOTAL_BYTES
        self.done: set[str] = set()

    def read(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, code: str, what: str) -> bytes:
        if info.file_size > cap:
            raise Rejected(code, f"{what} is over {cap // MIB} MiB.")
        with zf.open(info) as stream:
            data = stream.read(min(cap, self.left) + 1)
        if len(data) > cap:
            raise Rejected(code, f"{what} is over {cap // MIB} MiB.")
        if len(data) > self.left:
            raise Rejected(
                "archive_too_large",
                f"The archive's entries add up to more than {MAX_TOTAL_BYTES // MIB} MiB: split the record.",
            )
        if len(data) != info.file_size:
            raise Rejected(
                "unreadable_archive", f"{what} does not hold the bytes its header declares: the archive is corrupt."
            )
        self.left -= len(data)
        self.done.add(info.filename)
        return data


def _parse(data: bytes) -> Element:
    import defusedxml.ElementTree as safe_xml
    from defusedxml import DefusedXmlException

    try:
        root = safe_xml.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise Rejected(
            "unsafe_xml",
            "METADATA.XML declares a DTD or entities: refused (they can expand without bound or read files).",
        ) from error
    except ParseError as error:
        raise Rejected("invalid_metadata", "METADATA.XML is not well-formed XML.") from error
    if root.tag != f"{{{LCM}}}SubmitObjectsRequest":
        raise Rejected("invalid_metadata", "METADATA.XML is not an ebRIM SubmitObjectsRequest (lcm 3.0).")
    return root


@dataclass
class _Attached:
    """What the metadata attaches to one ExtrinsicObject, nested in it or beside it."""

    classifications: list[Element]
    identifiers: list[Element]

    def classified(self, scheme: str) -> list[Element]:
        return [c for c in self.classifications if c.get("classificationScheme") == scheme]

    def identifier(self, scheme: str) -> str | None:
        return next((i.get("value") for i in self.identifiers if i.get("identificationScheme") == scheme), None)


def _document_objects(root: Element) -> list[tuple[Element, _Attached]]:
    attached: dict[str | None, _Attached] = defaultdict(lambda: _Attached([], []))
    for parent in root.iter():
        for child in parent:
            if child.tag == f"{{{RIM}}}Classification":
                attached[child.get("classifiedObject") or parent.get("id")].classifications.append(child)
            elif child.tag == f"{{{RIM}}}ExternalIdentifier":
                attached[child.get("registryObject") or parent.get("id")].identifiers.append(child)
    return [(obj, attached[obj.get("id")]) for obj in root.iter(f"{{{RIM}}}ExtrinsicObject")]


def _slots(element: Element) -> dict[str, list[str]]:
    return {
        slot.get("name", ""): [(value.text or "").strip() for value in slot.iter(f"{{{RIM}}}Value")]
        for slot in element.findall(f"{{{RIM}}}Slot")
    }


def _entry(position: int, obj: Element, attached: _Attached, file_of) -> Entry:
    def invalid(what: str) -> Rejected:
        return Rejected("invalid_metadata", f"Document entry {position}: {what}.")

    if obj.get("objectType", DOCUMENT_ENTRY) != DOCUMENT_ENTRY:
        raise invalid("not a stable document entry (on-demand entries cannot be imported)")
    slots = _slots(obj)
    unique_id = (attached.identifier(UNIQUE_ID) or "").strip()
    if not unique_id or len(unique_id) > 256 or _CONTROL.search(unique_id):
        raise invalid("its uniqueId is missing or malformed")
    media_type = (obj.get("mimeType") or "").strip().lower()
    if not media_type:
        raise invalid("its mimeType is missing")
    name = obj.find(f"{{{RIM}}}Name/{{{RIM}}}LocalizedString")
    title = " ".join(((name.get("value") if name is not None else None) or "").split())
    if not title:
        raise invalid("its title (Name) is missing")
    types = attached.classified(TYPE_CODE)
    if len(types) != 1:
        raise invalid("it needs exactly one typeCode")
    type_code = (types[0].get("nodeRepresentation") or "").strip()
    if _slots(types[0]).get("codingScheme", [""])[0].removeprefix("urn:oid:") != document_types.oid_of(type_code):
        raise Rejected(
            "unknown_type_code",
            f"Document entry {position}: its typeCode {type_code[:20]!r} is not a code of the DMP's list"
            " in its system.",
        )
    flags = _confidentiality(position, attached.classified(CONFIDENTIALITY))
    sha1, size = (slots.get("hash") or [""])[0].lower(), (slots.get("size") or [""])[0]
    if not _SHA1.fullmatch(sha1) or not size.isdigit():
        raise invalid("its hash (SHA-1, 40 hex digits) or size slot is missing or malformed")
    data = file_of(_uri(slots.get("URI", [])), position)
    if len(data) != int(size):
        raise Rejected(
            "size_mismatch",
            f"Document entry {position}: its file holds {len(data)} bytes, its size slot says {int(size)}.",
        )
    if hashlib.sha1(data).hexdigest() != sha1:  # noqa: S324 - XDS's hash slot is SHA-1: an integrity check
        raise Rejected("hash_mismatch", f"Document entry {position}: its file's SHA-1 is not its hash slot.")
    return Entry(
        position=position,
        unique_id=unique_id,
        ins=_ins(position, [attached.identifier(PATIENT_ID) or "", *slots.get("sourcePatientId", [])]),
        author_rpps=_rpps(position, attached.classified(AUTHOR)),
        created=_creation_time(position, (slots.get("creationTime") or [""])[0]),
        title=title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…",
        type_code=type_code,
        media_type=media_type,
        content=data,
        **{flag: flag in flags for flag in CONFIDENTIALITY_FLAGS.values()},
    )


def _confidentiality(position: int, classifications: list[Element]) -> set[str]:
    """The DMP's own codes; HL7 codes (N, R, V) carry nothing this API enforces."""
    flags = set()
    for classification in classifications:
        scheme = _slots(classification).get("codingScheme", [""])[0].removeprefix("urn:oid:")
        if scheme != document_types.CONFIDENTIALITY_OID:
            continue
        code = classification.get("nodeRepresentation", "")
        if code not in CONFIDENTIALITY_FLAGS:
            raise Rejected(
                "unknown_confidentiality_code",
                f"Document entry {position}: an unknown DMP confidentiality code: it cannot be honoured.",
            )
        flags.add(CONFIDENTIALITY_FLAGS[code])
    return flags


def _authority(component: str) -> str:
    """The universal id of an HD (``&<oid>&ISO``)."""
    parts = component.split("&")
    return parts[1] if len(parts) > 1 else ""


def _ins(position: int, patient_ids: list[str]) -> str:
    """The INS of the entry's patient (CX ``<INS>^^^&1.2.250.1.213.1.4.8&ISO``)."""
    found = set()
    for value in patient_ids:
        components = value.split("^")
        if len(components) > 3 and _authority(components[3]) == identifiers.INS_OID:
            try:
                found.add(identifiers.normalize_ins(components[0]))
            except identifiers.InvalidIdentifier as error:
                raise Rejected(
                    "invalid_ins", f"Document entry {position}: its patient's INS is not valid (format or key)."
                ) from error
    if not found:
        raise Rejected(
            "invalid_ins",
            f"Document entry {position} names no patient by INS (patientId with assigning authority "
            f"{identifiers.INS_OID}).",
        )
    if len(found) > 1:
        raise Rejected(
            "invalid_metadata", f"Document entry {position}: its patientId and sourcePatientId name different people."
        )
    return found.pop()


def _rpps(position: int, authors: list[Element]) -> str:
    """The RPPS of the entry's author (XCN ``<id>^<family>^<given>^^^^^^&1.2.250.1.71.4.2.1&ISO``;
    the id is the IdNatPs, "8" + RPPS, or the bare 11 digits)."""
    for author in authors:
        for xcn in _slots(author).get("authorPerson", []):
            components = xcn.split("^")
            if len(components) > 8 and _authority(components[8]) == identifiers.IDNATPS_OID:
                number = components[0].strip()
                if len(number) == identifiers.RPPS_LENGTH + 1 and number.startswith(RPPS_PREFIX):
                    number = number[1:]
                if identifiers.is_valid_rpps(number):
                    return number
                raise Rejected(
                    "invalid_rpps", f"Document entry {position}: its author is not identified by a valid RPPS number."
                )
    raise Rejected(
        "invalid_author",
        f"Document entry {position} has no author identified by RPPS (authorPerson with assigning authority "
        f"{identifiers.IDNATPS_OID}).",
    )


def _creation_time(position: int, value: str) -> datetime:
    form = _TIME_FORMATS.get(len(value)) if value.isdigit() else None
    try:
        moment = datetime.strptime(value, form).replace(tzinfo=UTC) if form else None
    except ValueError:
        moment = None
    if moment is None or moment.year < 1970 or moment > datetime.now(UTC):
        raise Rejected(
            "invalid_metadata",
            f"Document entry {position}: its creationTime is missing, malformed (YYYYMMDD[HH[MM[SS]]], UTC) or in the "
            "future.",
        )
    return moment


def _uri(values: list[str]) -> str:
    """The URI slot; a long one is split over numbered values ("1|…", "2|…")."""
    if len(values) > 1 and all(re.match(r"\d+\|", value) for value in values):
        return "".join(value.split("|", 1)[1] for value in sorted(values, key=lambda v: int(v.split("|", 1)[0])))
    return values[0] if values else ""


def _file(
    zf: zipfile.ZipFile, files: dict[str, zipfile.ZipInfo], subset: str, uri: str, position: int, budget: _Budget
) -> bytes:
    """The bytes of the file an entry's URI names, beside its METADATA.XML."""
    if not uri or "://" in uri or not _safe_path(uri):
        raise Rejected("unsafe_path", f"Document entry {position}: its URI is not a path inside the archive.")
    path = posixpath.normpath(posixpath.join(subset, uri))
    if path not in files:
        raise Rejected(
            "missing_document", f"Document entry {position}: its URI names a file that is not in the archive."
        )
    return budget.read(zf, files[path], MAX_DOCUMENT_BYTES, "payload_too_large", f"Document entry {position}'s file")


def _check_together(entries: list[Entry]) -> None:
    if len({entry.ins for entry in entries}) > 1:
        raise Rejected(
            "several_patients", "The archive's entries name several patients: one archive is one person's record."
        )
    if len({entry.unique_id for entry in entries}) != len(entries):
        raise Rejected("invalid_metadata", "Two document entries of the archive have the same uniqueId.")
