"""The stack's DynamoDB tables beside the spaces table: one per module's data, each with its own
index, so that a function's role names the tables it may reach and nothing else
(docs/decisions/0005-a-table-per-module.md). infra/render.py adds them to the template; the keys
inside each are chalicelib/core/data/layout.py's.
"""

from __future__ import annotations

from typing import Any

# Logical id -> the table's kind: its physical name is mes-<stage>-<kind> (core.settings table_name).
MODULE_TABLES: dict[str, str] = {
    "MigrationTable": "migration",
    "EnrolmentTable": "enrolment",
    "MessagingTable": "messaging",
    "CatalogueTable": "catalogue",
    "ProfileTable": "profile",
    "AgendaTable": "agenda",
    "DocumentsTable": "documents",
    "HistoryTable": "history",
    "DirectoryTable": "directory",
}


def _sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def _key(hash_key: str, range_key: str) -> list[dict[str, Any]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}]


# Indexes beyond gsi1, each keyed by <name>pk / <name>sk, projecting everything: the documents'
# FHIR searches, a page at a time by deposit time, of every type (gsi2) or of one (gsi3: also the
# emergency summary's latest advance directives) (chalicelib/core/data/layout.py documents_by_time,
# documents_of_type).
MORE_INDEXES: dict[str, tuple[str, ...]] = {"DocumentsTable": ("gsi2", "gsi3")}

# The tables whose changes feed a function: the history's heads its signer (infra/functions.py
# SignHeads, filtered there).
STREAMS = {"HistoryTable": "NEW_IMAGE"}


def module_table(kind: str, stream: str | None = None, more_indexes: tuple[str, ...] = ()) -> dict[str, Any]:
    """A module's table: on-demand, its key and one index (gsi1) or more, point-in-time recovery,
    encrypted with the stack's key, kept when the stack is deleted."""
    indexes = ("gsi1", *more_indexes)
    table: dict[str, Any] = {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": _sub(f"mes-${{Stage}}-{kind}"),
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("pk", "sk", *(f"{index}{part}" for index in indexes for part in ("pk", "sk")))
            ],
            "KeySchema": _key("pk", "sk"),
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": index,
                    "KeySchema": _key(f"{index}pk", f"{index}sk"),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in indexes
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
            },
        },
    }
    if stream:
        table["Properties"]["StreamSpecification"] = {"StreamViewType": stream}
    return table


def add_tables(template: dict[str, Any]) -> None:
    for logical_id, kind in MODULE_TABLES.items():
        template["Resources"][logical_id] = module_table(
            kind, STREAMS.get(logical_id), MORE_INDEXES.get(logical_id, ())
        )
