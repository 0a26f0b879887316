"""The tables' layout: every table, key, key prefix and index key, and the conditions that guard
a space. Stores build their items from these; services build no keys.

Each module's data is in a table of its own where the function of no other module can reach it
(docs/decisions/0005-a-table-per-module.md); the *_TABLE names below are those tables' kinds
(infra/tables.py).

The history, documents, profile, agenda, messaging, catalogue, enrolment and migration tables
(*_TABLE): see their sections below. A module's content markers (ORPHAN#, core.security.blobs) are
in its own table, beside the items owning the content.

The spaces table: the accounts and the access decision's inputs, read by every module that
authorises a caller, written by the enrolment and access modules only.

A person's space (partition PAT#<patient_id>)
    sk = SPACE#ACCOUNT                    status, identity, enrolment, access settings; a minor's
                                          legal representatives ({person_id, ins_digest, identity,
                                          contact} each: their notices and the access decision)
            gsi1pk = COHORT#<cohort_id>#<shard>   gsi1sk = PAT#<patient_id>   (enrolment timers)
    sk = SPACE#GRANT#<rpps>               {rpps, granted_at, expires_at?}
    sk = SPACE#BLOCK#<rpps>               {rpps, blocked_at}
    sk = SPACE#EMERGENCY#<rpps>           {rpps, profession, opened_at, expires_at, reason_sealed}
    sk = SPACE#REGULATION#<rpps>          the same, for a SAMU regulator doctor's session
    sk = SPACE#GUARDIAN#<guardianship_id> a protected adult's guardian {person_id, ins_digest, until?, ...}
    sk = SPACE#CAREGIVER                  the adult's one caregiver, invited, active or ended {caregiver_id,
                                          person_id, ins_digest, identity, email, status, code_digest, ...}

Other partitions
    INS#<hmac(INS)> / INS                 {patient_id}: a person by INS: their space's id, or the
                                          opaque id of a representative or guardian who has no
                                          space (yet): it becomes their patient_id if invited
    DEPENDANTS#<person_id> / PAT#<patient_id>#<relationship>   {patient_id, relationship, until?,
                                          status?}: the spaces a person acts on (GET /v1/me/dependants;
                                          a caregiver's: invited, then active)
    GUARDIANSHIP#<guardianship_id> / GUARDIANSHIP   {patient_id, person_id}: a guardianship by id

Everything the access decision reads shares the SPACE# prefix: one query loads it. An app's request
reads one thing more, its connection to the space and whether it is referenced: the catalogue
table's (core.data.spaces connected_app).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

# --- a person's space -------------------------------------------------------------------------
PATIENT_PREFIX = "PAT#"
SPACE_PREFIX = "SPACE#"
ACCOUNT = "SPACE#ACCOUNT"
ACTIVITY_HEAD = "SPACE#ACTIVITY_HEAD"
ACTIVITY_PREFIX = "ACT#"
ACTIVITY_EVENT_PREFIX = f"{ACTIVITY_PREFIX}0"
GRANT_PREFIX = "SPACE#GRANT#"
BLOCK_PREFIX = "SPACE#BLOCK#"
EMERGENCY_PREFIX = "SPACE#EMERGENCY#"
REGULATION_PREFIX = "SPACE#REGULATION#"
GUARDIAN_PREFIX = "SPACE#GUARDIAN#"
CAREGIVER = "SPACE#CAREGIVER"
DOCUMENT_PREFIX = "DOC#"
PROFILE_PREFIX = "PROFILE#"
MEASUREMENT_PREFIX = "MEAS#"
MEASUREMENT_POINTER_PREFIX = "MEASID#"
AGENDA_PREFIX = "AGENDA#"
AGENDA_POINTER_PREFIX = "AGENDA_ID#"
AGENDA_BOOKING_PREFIX = "AGENDA_EXT#"
LEGACY_PREFIX = "LEGACY#"
OPEN_STATUSES = ("active", "auto_created")


def patient(patient_id: str) -> str:
    return f"{PATIENT_PREFIX}{patient_id}"


def patient_id_of(partition_key: str) -> str:
    return partition_key.removeprefix(PATIENT_PREFIX)


def _in_space(patient_id: str, sk: str) -> dict[str, Any]:
    return {"pk": patient(patient_id), "sk": sk}


def account(patient_id: str) -> dict[str, Any]:
    return _in_space(patient_id, ACCOUNT)


def ins_index(ins_digest: str) -> dict[str, Any]:
    return {"pk": f"INS#{ins_digest}", "sk": "INS"}


def guardian(patient_id: str, guardianship_id: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{GUARDIAN_PREFIX}{guardianship_id}")


def caregiver(patient_id: str) -> dict[str, Any]:
    """The space's caregiver: one item, so that "one caregiver per space" is one conditional write."""
    return _in_space(patient_id, CAREGIVER)


def dependants(person_id: str) -> str:
    """Partition of the spaces a person acts on as legal representative, guardian or caregiver."""
    return f"DEPENDANTS#{person_id}"


def dependant(person_id: str, patient_id: str, relationship: str) -> dict[str, Any]:
    return {"pk": dependants(person_id), "sk": f"{patient(patient_id)}#{relationship}"}


def guardianship(guardianship_id: str) -> dict[str, Any]:
    return {"pk": f"GUARDIANSHIP#{guardianship_id}", "sk": "GUARDIANSHIP"}


def grant(patient_id: str, rpps: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{GRANT_PREFIX}{rpps}")


def block(patient_id: str, rpps: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{BLOCK_PREFIX}{rpps}")


def emergency(patient_id: str, rpps: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{EMERGENCY_PREFIX}{rpps}")


def regulation(patient_id: str, rpps: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{REGULATION_PREFIX}{rpps}")


# --- the activity history: the history table (core.history.journal) ------------------------------
#     PAT#<patient_id> / SPACE#ACTIVITY_HEAD   the chain's head {seq, hash}
#     PAT#<patient_id> / ACT#<seq, 12 digits>  one event
HISTORY_TABLE = "history"


def activity_head(patient_id: str) -> dict[str, Any]:
    return _in_space(patient_id, ACTIVITY_HEAD)


def activity_event(patient_id: str, seq: int) -> dict[str, Any]:
    return _in_space(patient_id, f"{ACTIVITY_PREFIX}{seq:012d}")


# --- documents: the documents table -------------------------------------------------------------
#     PAT#<patient_id> / DOC#<document_id>     a document's metadata (no content)
#             gsi1pk = RELEASE#<YYYY-MM-DD>   gsi1sk = <release_at>#<patient_id>#<document_id>
#             gsi2pk = DOCS#<patient_id>      gsi2sk = <created_at>#<document_id>   (FHIR search, any type)
#             gsi3pk = DOCS#<patient_id>#<type_code>   gsi3sk = the same           (FHIR search by type;
#                                           the emergency summary's latest advance directives)
#     PAT#<patient_id> / LEGACY#<sha256(uniqueId)>   {document_id}: a legacy DMP document imported
#                                           here (kept when the document is deleted: a re-import
#                                           does not revive it)
#     DOCID#<document_id> / DOCUMENT        {patient_id}: a document by its id alone (FHIR paths)
#     ORPHAN#<object_key> / CONTENT         content whose write or deletion may be unfinished
#             gsi1pk = ORPHANS#documents  gsi1sk = <marked at>
DOCUMENTS_TABLE = "documents"
DOCUMENT_POINTER_PREFIX = "DOCID#"


def document(patient_id: str, document_id: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{DOCUMENT_PREFIX}{document_id}")


def _digest(text: str) -> str:
    """Names taken from outside (archive keys, uniqueIds) enter keys only hashed."""
    return hashlib.sha256(text.encode()).hexdigest()


def legacy_document(patient_id: str, unique_id: str) -> dict[str, Any]:
    """The marker of a legacy DMP document (its XDS uniqueId) imported into this space."""
    return _in_space(patient_id, f"{LEGACY_PREFIX}{_digest(unique_id)}")


def document_pointer(document_id: str) -> dict[str, Any]:
    """Where a document is, by its id alone (``/v1/fhir/Binary/{id}`` names no space)."""
    return {"pk": f"{DOCUMENT_POINTER_PREFIX}{document_id}", "sk": "DOCUMENT"}


DOCUMENTS_BY_TIME_INDEX = "gsi2"
DOCUMENTS_BY_TYPE_INDEX = "gsi3"


def documents_by_time(patient_id: str) -> str:
    """Index partition (gsi2) of a space's documents by deposit time."""
    return f"DOCS#{patient_id}"


def documents_of_type(patient_id: str, type_code: str) -> str:
    """Index partition (gsi3) of a space's documents of one type (its code) by deposit time."""
    return f"DOCS#{patient_id}#{type_code}"


def document_time_key(created_at: str, document_id: str) -> str:
    """A document's place in both search indexes: when it was deposited, then its id."""
    return f"{created_at}#{document_id}"


def release_bucket(day: str) -> str:
    """Index partition of the documents to release to their patient on ``day`` (YYYY-MM-DD)."""
    return f"RELEASE#{day}"


# --- the health profile: the profile table (a space's partition, as in the spaces table) ---------
#     PAT#<patient_id> / PROFILE#<section>#<entry_id>    allergies, treatments, vaccinations, conditions
#     PAT#<patient_id> / MEAS#<kind>#<measured_at>#<entry_id>   a measurement
#             gsi1pk = MEAS#<patient_id>      gsi1sk = <measured_at>#<entry_id>   (every kind, by time)
#     PAT#<patient_id> / MEASID#<entry_id>     {measurement_sk}: a measurement by id
PROFILE_TABLE = "profile"


def profile_entry(patient_id: str, section: str, entry_id: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{PROFILE_PREFIX}{section}#{entry_id}")


def measurement_kind_prefix(kind: str) -> str:
    return f"{MEASUREMENT_PREFIX}{kind}#"


def measurement(patient_id: str, kind: str, measured_at: str, entry_id: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{measurement_kind_prefix(kind)}{measured_at}#{entry_id}")


def measurement_pointer(patient_id: str, entry_id: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{MEASUREMENT_POINTER_PREFIX}{entry_id}")


def measurements_by_time(patient_id: str) -> str:
    """Index partition of a person's measurements of every kind, by time."""
    return f"{MEASUREMENT_PREFIX}{patient_id}"


# --- the agenda: the agenda table (a space's partition) ------------------------------------------
#     PAT#<patient_id> / AGENDA#<start>#<event_id>   an agenda event
#             gsi1pk = REMIND#<YYYY-MM-DDTHH>  gsi1sk = <start>#<patient_id>#<event_id>
#     PAT#<patient_id> / AGENDA_ID#<event_id>        {event_sk}: an agenda event by id
#     PAT#<patient_id> / AGENDA_EXT#<sha256(system|value)>   {event_id, cancelled?}: a booking's
#                                           identifier (FHIR Appointment), one event per booking
AGENDA_TABLE = "agenda"


def agenda_sort_key(start: str, event_id: str) -> str:
    return f"{AGENDA_PREFIX}{start}#{event_id}"


def agenda_pointer(patient_id: str, event_id: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{AGENDA_POINTER_PREFIX}{event_id}")


def agenda_booking(patient_id: str, identifier: str) -> dict[str, Any]:
    """The marker of a booking's identifier (``system|value``, taken from outside: hashed)."""
    return _in_space(patient_id, f"{AGENDA_BOOKING_PREFIX}{_digest(identifier)}")


def reminder_bucket(hour: str) -> str:
    """Index partition of the agenda events starting in ``hour`` (YYYY-MM-DDTHH)."""
    return f"REMIND#{hour}"


# --- enrolment: the enrolment table ----------------------------------------------------------
#     CAMPAIGN#<id> / META                  an enrolment campaign
#     CAMPAIGN#<id> / COUNT#<shard>         its sharded status counters
#     NOTICE#<patient_id>#<template> / NOTICE   an enrolment notice waiting to be sent again
#             gsi1pk = NOTICES#<shard>  gsi1sk = <deferred_at>   (enrolment/store.py)
# The accounts they count and tell of are the spaces table's (their cohort index too).
ENROLMENT_TABLE = "enrolment"
CAMPAIGN_PREFIX = "CAMPAIGN#"
NOTICE_PREFIX = "NOTICE#"


def campaign(campaign_id: str) -> dict[str, Any]:
    return {"pk": campaign_partition(campaign_id), "sk": "META"}


COUNTER_PREFIX = "COUNT#"


def campaign_counter(campaign_id: str, shard: int) -> dict[str, Any]:
    return {"pk": campaign_partition(campaign_id), "sk": f"{COUNTER_PREFIX}{shard:02d}"}


def campaign_partition(campaign_id: str) -> str:
    return f"{CAMPAIGN_PREFIX}{campaign_id}"


def cohort_shard(cohort_id: str, shard: int) -> str:
    """Index partition of one shard of a cohort's people (gsi1pk of their accounts)."""
    return f"COHORT#{cohort_id}#{shard}"


def deferred_notice(patient_id: str, template: str) -> dict[str, Any]:
    return {"pk": f"{NOTICE_PREFIX}{patient_id}#{template}", "sk": "NOTICE"}


# --- legacy DMP migrations: the migration table ------------------------------------------------
#     MIGRATION#<id> / META                 a legacy DMP migration {prefix, status, started_at...}
#     MIGRATION#<id> / COUNT#<shard>        its sharded counters {archives, imported, duplicates...}
#     MIGRATION#<id> / REJECT#<sha256(archive key)>   a rejected archive {archive, code, message}
#     MIGRATION#<id>#ARCHIVE#<sha256(archive key)> / ARCHIVE   the migration counted this archive
#                                           (its own partition: millions are written side by side)
# Written by the migration module and, in the very transactions that import or refuse each
# archive, by the legacy import (documents module) and its state machine's last step.
MIGRATION_TABLE = "migration"
MIGRATION_PREFIX = "MIGRATION#"
REJECT_PREFIX = "REJECT#"


def migration_partition(migration_id: str) -> str:
    return f"{MIGRATION_PREFIX}{migration_id}"


def migration(migration_id: str) -> dict[str, Any]:
    return {"pk": migration_partition(migration_id), "sk": "META"}


def migration_counter(migration_id: str, shard: int) -> dict[str, Any]:
    return {"pk": migration_partition(migration_id), "sk": f"{COUNTER_PREFIX}{shard:02d}"}


def migration_reject(migration_id: str, archive_key: str) -> dict[str, Any]:
    return {"pk": migration_partition(migration_id), "sk": f"{REJECT_PREFIX}{_digest(archive_key)}"}


def migration_archive(migration_id: str, archive_key: str) -> dict[str, Any]:
    """ "This migration has counted this archive": a retried batch counts nothing twice."""
    return {"pk": f"{migration_partition(migration_id)}#ARCHIVE#{_digest(archive_key)}", "sk": "ARCHIVE"}


# --- messaging: the messaging table -------------------------------------------------------------
#     CONV#<conversation_id> / PARTICIPANT#<role>   an inbox entry
#             gsi1pk = INBOX#<role>#<participant_id>  gsi1sk = <last_message_at>#<conversation_id>
#     CONV#<conversation_id> / MSG#<message_id>     one message
#     ORPHAN#<object_key> / CONTENT   messages' content whose write or deletion may be unfinished
#             gsi1pk = ORPHANS#messages  gsi1sk = <marked at>
MESSAGING_TABLE = "messaging"
CONVERSATION_PREFIX = "CONV#"
PARTICIPANT_PREFIX = "PARTICIPANT#"
MESSAGE_PREFIX = "MSG#"


def conversation(conversation_id: str) -> str:
    return f"{CONVERSATION_PREFIX}{conversation_id}"


def participant(conversation_id: str, role: str) -> dict[str, Any]:
    return {"pk": conversation(conversation_id), "sk": f"{PARTICIPANT_PREFIX}{role}"}


def message(conversation_id: str, message_id: str) -> dict[str, Any]:
    return {"pk": conversation(conversation_id), "sk": f"{MESSAGE_PREFIX}{message_id}"}


def inbox(role: str, participant_id: str) -> str:
    return f"INBOX#{role}#{participant_id}"


#     MAILID#<sha256(Message-ID)> / MAIL     {conversation_id, rpps}: a mail's Message-ID, inbound
#                                           or sent, finds its conversation (In-Reply-To, References)
MAIL_ID_PREFIX = "MAILID#"


def mail_id(message_id_header: str) -> dict[str, Any]:
    return {"pk": f"{MAIL_ID_PREFIX}{_digest(message_id_header)}", "sk": "MAIL"}


# --- the MSSanté directory: the directory table (docs/api.md § MSSanté) -------------------------
#     MSSADDR#<sha256(casefolded address)> / ENTRY   {address, rpps, name, profession, source}
DIRECTORY_TABLE = "directory"
DIRECTORY_PREFIX = "MSSADDR#"


def directory_entry(address: str) -> dict[str, Any]:
    """Addresses compare case-insensitively: the key is the digest of the casefolded address."""
    return {"pk": f"{DIRECTORY_PREFIX}{_digest(address.casefold())}", "sk": "ENTRY"}


# --- the catalogue and the patients' connections: the catalogue table ---------------------------
#     APP#<app_id> / APP                     a catalogue app
#             gsi1pk = CATALOGUE   gsi1sk = <category>#<name>#<app_id>   (referenced apps only)
#     PAT#<patient_id> / SPACE#CONNECTION#<connection_id>   {connection_id, app_id, scopes, created_at}
#     PAT#<patient_id> / CONNAPP#<app_id>    {connection_id, app_id, scopes}: one connection per app,
#                                           written and deleted with the connection; the gate reads
#                                           it with the app item in one BatchGetItem (an app's request)
# The connections' keys are those they had in the spaces table: a deployed stack's move is a copy
# with the keys unchanged (docs/decisions/0005-a-table-per-module.md).
CATALOGUE_TABLE = "catalogue"
CATALOGUE_LISTING = "CATALOGUE"
CONNECTION_PREFIX = "SPACE#CONNECTION#"
APP_CONNECTION_PREFIX = "CONNAPP#"


APP_PREFIX = "APP#"


def app(app_id: str) -> dict[str, Any]:
    return {"pk": f"{APP_PREFIX}{app_id}", "sk": "APP"}


def catalogue_sort_key(category: str, name: str, app_id: str) -> str:
    return f"{category}#{name.casefold()}#{app_id}"


def connection(patient_id: str, connection_id: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{CONNECTION_PREFIX}{connection_id}")


def app_connection(patient_id: str, app_id: str) -> dict[str, Any]:
    return _in_space(patient_id, f"{APP_CONNECTION_PREFIX}{app_id}")


# --- content in S3 ----------------------------------------------------------------------------
ORPHAN_PREFIX = "ORPHAN#"


def orphan(object_key: str) -> dict[str, Any]:
    return {"pk": f"{ORPHAN_PREFIX}{object_key}", "sk": "CONTENT"}


# A bucket's content markers are in its module's table, beside the items owning the content.
CONTENT_TABLES = {"documents": DOCUMENTS_TABLE, "messages": MESSAGING_TABLE}


def orphans_index(bucket_kind: str) -> str:
    """Index partition of one bucket's orphan markers (each module sweeps its own)."""
    return f"ORPHANS#{bucket_kind}"


# Every module's table, beside the spaces table (infra/tables.py declares each).
MODULE_TABLES = (
    HISTORY_TABLE,
    DOCUMENTS_TABLE,
    PROFILE_TABLE,
    AGENDA_TABLE,
    MESSAGING_TABLE,
    CATALOGUE_TABLE,
    ENROLMENT_TABLE,
    MIGRATION_TABLE,
    DIRECTORY_TABLE,
)


# Where each item family of the one table (docs/decisions/0001-data-layout.md) now is: the keys are
# unchanged, only the table differs (tools/split_tables.py copies a deployed stack's items by this).
_SPACE_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = (  # a space's partition: by the sort key
    ((ACTIVITY_HEAD, ACTIVITY_PREFIX), HISTORY_TABLE),
    ((DOCUMENT_PREFIX, LEGACY_PREFIX), DOCUMENTS_TABLE),
    ((PROFILE_PREFIX, MEASUREMENT_PREFIX, MEASUREMENT_POINTER_PREFIX), PROFILE_TABLE),
    ((AGENDA_PREFIX, AGENDA_POINTER_PREFIX, AGENDA_BOOKING_PREFIX), AGENDA_TABLE),
    ((CONNECTION_PREFIX, APP_CONNECTION_PREFIX), CATALOGUE_TABLE),
)
_PARTITION_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = (  # other partitions: by the partition key
    ((DOCUMENT_POINTER_PREFIX,), DOCUMENTS_TABLE),
    ((CONVERSATION_PREFIX, MAIL_ID_PREFIX), MESSAGING_TABLE),
    ((CAMPAIGN_PREFIX, NOTICE_PREFIX), ENROLMENT_TABLE),
    ((MIGRATION_PREFIX,), MIGRATION_TABLE),
    ((APP_PREFIX,), CATALOGUE_TABLE),
    ((DIRECTORY_PREFIX,), DIRECTORY_TABLE),  # born in its own table: never in the one table
)
# A content marker is its bucket's module's (core.security.blobs.Bucket), told by its index partition.
_ORPHANS_TABLES = {orphans_index(bucket): kind for bucket, kind in CONTENT_TABLES.items()}


def table_of(item: Mapping[str, Any]) -> str | None:
    """The kind of the table an item of the one-table layout now lives in, by its key family (its
    ``pk``, ``sk`` and, for a content marker, ``gsi1pk``); None: it stays in the spaces table."""
    pk, sk = str(item["pk"]), str(item["sk"])
    if pk.startswith(PATIENT_PREFIX):
        return next((kind for prefixes, kind in _SPACE_FAMILIES if sk.startswith(prefixes)), None)
    if pk.startswith(ORPHAN_PREFIX):
        return _ORPHANS_TABLES.get(str(item.get("gsi1pk", "")))
    return next((kind for prefixes, kind in _PARTITION_FAMILIES if pk.startswith(prefixes)), None)


# --- conditions -------------------------------------------------------------------------------
# "The space is open", on its account item: for updates of the account that add their own terms.
SPACE_OPEN_CONDITION = "attribute_exists(pk) AND #status IN (:active, :auto_created)"
SPACE_OPEN_NAMES = {"#status": "status"}
SPACE_OPEN_VALUES = {":active": OPEN_STATUSES[0], ":auto_created": OPEN_STATUSES[1]}


def space_is_open(table: str, patient_id: str) -> dict[str, Any]:
    """A transaction item that fails unless the space exists and is open (active or auto-created)."""
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": account(patient_id),
            "ConditionExpression": SPACE_OPEN_CONDITION,
            "ExpressionAttributeNames": SPACE_OPEN_NAMES,
            "ExpressionAttributeValues": SPACE_OPEN_VALUES,
        }
    }


def not_blocked(table: str, patient_id: str, rpps: str) -> dict[str, Any]:
    """A transaction item that fails if the patient has blocked this professional."""
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": block(patient_id, rpps),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
