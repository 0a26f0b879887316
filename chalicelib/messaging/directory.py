"""The MSSanté trust space's directory (docs/api.md § MSSanté): the mailboxes that may write to a
patient, each with the professional it belongs to. Kept by a ``directory_admin`` through the API
and, deployed, by the import of the national directory's extract (``import_extract``; README §
MSSanté directory): both write the same items of the directory table, keyed by the digest of the
casefolded address (core.data.layout directory_entry), so addresses compare case-insensitively.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.core import clock
from chalicelib.core.data import aws, layout
from chalicelib.core.errors import InvalidRequest, NotFound
from chalicelib.core.security.identifiers import PROFESSIONS, InvalidIdentifier, normalize_rpps
from chalicelib.messaging import mail
from chalicelib.messaging.models import DirectoryEntry, DirectoryEntryIn

NOT_IN_DIRECTORY = "No such address in the MSSanté directory."
OUT_OF_TRUST_SPACE = "Only addresses of the MSSanté trust space (a subdomain of mssante.fr) are in the directory."


def _table():
    return aws.table(layout.DIRECTORY_TABLE)


def _checked(address: str) -> str:
    if not mail.in_trust_space(address):
        raise InvalidRequest(OUT_OF_TRUST_SPACE, [{"field": "address", "message": OUT_OF_TRUST_SPACE}])
    return address


def find(address: str) -> DirectoryEntry | None:
    """The entry of a mailbox, whatever the case it is written in; None outside the trust space."""
    if not mail.in_trust_space(address):
        return None
    item = _table().get_item(Key=layout.directory_entry(address)).get("Item")
    return _entry(item) if item else None


def _entry(item: dict) -> DirectoryEntry:
    return DirectoryEntry(address=item["address"], rpps=item["rpps"], name=item["name"], profession=item["profession"])


def get(address: str) -> DirectoryEntry:
    entry = find(_checked(address))
    if entry is None:
        raise NotFound(NOT_IN_DIRECTORY)
    return entry


def put(address: str, entry: DirectoryEntryIn, source: str = "api") -> DirectoryEntry:
    item = {
        **layout.directory_entry(_checked(address)),
        "address": address.lower(),
        "rpps": entry.rpps,
        "name": entry.name,
        "profession": entry.profession,
        "source": source,
        "updated_at": clock.iso(clock.now()),
    }
    _table().put_item(Item=item)
    return _entry(item)


def delete(address: str) -> None:
    key = layout.directory_entry(_checked(address))
    if _table().delete_item(Key=key, ReturnValues="ALL_OLD").get("Attributes") is None:
        raise NotFound(NOT_IN_DIRECTORY)


# --- the national directory's extract -----------------------------------------------------------
# The columns of the "Extraction correspondance MSSanté" file (annuaire.sante.fr) read here: the
# mailbox, its holder's identifier (type 8: RPPS), their name and profession. Others are ignored.
COLUMNS = {
    "address": "Adresse BAL",
    "box_type": "Type BAL",
    "id_type": "Type d'identifiant PP",
    "rpps": "Identifiant PP",
    "family_name": "Nom d'exercice",
    "given_name": "Prénom d'exercice",
    "profession": "Code profession",
}
# The extract's profession codes (TRE_G15-ProfessionSante) and the professions of this API.
PROFESSION_CODES = {
    "10": "medecin",
    "21": "pharmacien",
    "40": "chirurgien_dentiste",
    "50": "sage_femme",
    "60": "infirmier",
    "70": "masseur_kinesitherapeute",
    "80": "pedicure_podologue",
}
RPPS_ID_TYPE = "8"


@dataclass
class Imported:
    entries: int = 0
    skipped: int = 0  # an organisation's or an application's mailbox, another identifier, a profession not ours


def import_extract(lines: Iterable[str], delimiter: str = "|") -> Imported:
    """Puts every personal mailbox of an RPPS professional of the extract into the directory; the
    rest is counted as skipped (never printed: the file names people)."""
    counts = Imported()
    with _table().batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for row in csv.DictReader(lines, delimiter=delimiter):
            item = _extract_item(row)
            if item is None:
                counts.skipped += 1
                continue
            batch.put_item(Item=item)
            counts.entries += 1
    return counts


EXTRACT_KEY = "extract/Extraction_Correspondance_MSSante.txt"  # where the nightly download puts it


def import_latest() -> Imported | None:
    """The nightly import (events.py): the extract in the directory bucket, if one is there; the
    object is kept (versioned: the previous nights' stay a week), the counts logged."""
    from botocore.exceptions import ClientError

    from chalicelib.core import logs
    from chalicelib.core.settings import settings

    try:
        stored = aws.client("s3").get_object(Bucket=settings().directory_bucket, Key=EXTRACT_KEY)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchKey":
            raise
        logs.warning("no MSSante directory extract to import")
        return None
    lines = (line.decode("utf-8-sig") for line in stored["Body"].iter_lines(keepends=True))
    counts = import_extract(lines)
    logs.info("MSSante directory imported", entries=counts.entries, skipped=counts.skipped)
    return counts


def _extract_item(row: dict) -> dict | None:
    cell = {name: (row.get(column) or "").strip() for name, column in COLUMNS.items()}
    profession = PROFESSION_CODES.get(cell["profession"])
    if cell["box_type"] not in ("", "PER") or cell["id_type"] != RPPS_ID_TYPE or profession not in PROFESSIONS:
        return None
    if not mail.in_trust_space(cell["address"]):
        return None
    try:  # the extract's identifier is the IdNatPS: "8" then the RPPS
        rpps = normalize_rpps(cell["rpps"].removeprefix(RPPS_ID_TYPE) if len(cell["rpps"]) == 12 else cell["rpps"])
    except InvalidIdentifier:
        return None
    name = " ".join(part for part in (cell["given_name"], cell["family_name"]) if part)
    return {
        **layout.directory_entry(cell["address"]),
        "address": cell["address"].lower(),
        "rpps": rpps,
        "name": name[:200] or rpps,
        "profession": profession,
        "source": "extract",
        "updated_at": clock.iso(clock.now()),
    }
