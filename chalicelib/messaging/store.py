"""Conversations and messages in DynamoDB; bodies and attachments in S3 through core.security.blobs.

    pk = CONV#<conversation_id>  sk = PARTICIPANT#patient        the patient's inbox entry
        gsi1pk = INBOX#patient#<patient_id>       gsi1sk = <last_message_at>#<conversation_id>
    pk = CONV#<conversation_id>  sk = PARTICIPANT#professional   the professional's inbox entry
        gsi1pk = INBOX#professional#<rpps>        gsi1sk = <last_message_at>#<conversation_id>
        both: conversation_id, patient_id, rpps, professional_name, subject_sealed (the subject,
        encrypted: Encryption SDK message), created_at,
        last_message_at, unread (messages from the other side not read yet), last_read (the
        newest message_id this participant has read)
        a conversation begun by mail (docs/api.md § MSSanté) also: mail_professional (the
        professional's address), mail_patient_sealed (the patient's, encrypted: it holds the INS),
        mail_last_id_sealed (the Message-ID of the professional's last mail, encrypted)
    pk = MAILID#<sha256(Message-ID)>  sk = MAIL          a mail's conversation {conversation_id, rpps, patient_id}
        gsi1pk = MAILS#<conversation_id>  gsi1sk = its pk     (deleted with the conversation)
    pk = CONV#<conversation_id>  sk = MSG#<message_id>           one message: author, sent_at,
        the body's object key and SHA-256, attachments [{index, media_type, size, sha256,
        object_key}] (file names are inside the encrypted body envelope)

Message ids are time-ordered (oldest first by sort key). Objects: messages/<message_id> (body
envelope) and messages/<message_id>/<index> (attachments), keyed by opaque ids only.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core.data import aws, layout

PATIENT = "patient"
PROFESSIONAL = "professional"
ROLES = (PATIENT, PROFESSIONAL)


partition = layout.conversation
TABLE = layout.MESSAGING_TABLE  # conversations and their inboxes; the spaces they are about are the spaces table's
participant_key = layout.participant
message_key = layout.message
inbox = layout.inbox


def owner(conversation_id: str, message_id: str) -> str:
    k = message_key(conversation_id, message_id)
    return f"{k['pk']}|{k['sk']}"


def body_object_key(message_id: str) -> str:
    return f"messages/{message_id}"


def attachment_object_key(message_id: str, index: int) -> str:
    return f"messages/{message_id}/{index}"


def participants(conversation_id: str) -> dict[str, dict]:
    """Both inbox entries ({role: item}); empty when there is no such conversation."""
    items = (
        aws.table(TABLE)
        .query(
            KeyConditionExpression=Key("pk").eq(partition(conversation_id))
            & Key("sk").begins_with(layout.PARTICIPANT_PREFIX),
            ConsistentRead=True,
        )
        .get("Items", [])
    )
    return {item["sk"].removeprefix(layout.PARTICIPANT_PREFIX): item for item in items}


def get_message(conversation_id: str, message_id: str) -> dict | None:
    return aws.table(TABLE).get_item(Key=message_key(conversation_id, message_id)).get("Item")


def messages_page(conversation_id: str, limit: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(partition(conversation_id))
        & Key("sk").begins_with(layout.MESSAGE_PREFIX),
        "ScanIndexForward": True,
        "Limit": limit,
        "ConsistentRead": True,
    }
    return aws.query_page(query, start_key, TABLE)


def inbox_page(role: str, participant_id: str, limit: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
    query: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": Key("gsi1pk").eq(inbox(role, participant_id)),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    return aws.query_page(query, start_key, TABLE)


def patient_inboxes_page(patient_ids: list[str], limit: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
    """A page of several spaces' patient inboxes merged, newest activity first. The next page starts
    before the sort key of the last entry given (unique: it ends with the conversation id, and
    comparable across inboxes); each inbox is read from there for one more than a page, so the
    merge knows whether more follow."""
    before = (start_key or {}).get("before")
    entries: list[dict] = []
    for patient_id in patient_ids:
        condition = Key("gsi1pk").eq(inbox(PATIENT, patient_id))
        if before:
            condition &= Key("gsi1sk").lt(before)
        query = {
            "IndexName": "gsi1",
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        entries += aws.table(TABLE).query(**query).get("Items", [])
    entries.sort(key=lambda entry: entry["gsi1sk"], reverse=True)
    page = entries[:limit]
    return page, ({"before": page[-1]["gsi1sk"]} if len(entries) > limit else None)


# --- transaction items --------------------------------------------------------------------------


def _table() -> str:
    return aws.table(TABLE).name


def put_participant(entry: dict) -> dict:
    item = {
        **participant_key(entry["conversation_id"], entry["role"]),
        **entry,
        "gsi1pk": inbox(entry["role"], entry["patient_id"] if entry["role"] == PATIENT else entry["rpps"]),
        "gsi1sk": f"{entry['last_message_at']}#{entry['conversation_id']}",
    }
    return aws.put_new(item, TABLE)


def put_message(conversation_id: str, message: dict) -> dict:
    item = {**message_key(conversation_id, message["message_id"]), **message}
    return aws.put_new(item, TABLE)


def touch_participant(
    conversation_id: str, role: str, sent_at: str, *, recipient: bool, also: dict[str, Any] | None = None
) -> dict:
    """A new message: the entry moves to the top of the inbox; the recipient's unread count grows;
    ``also``: attributes set with it (one update per item in a transaction)."""
    expression = "SET last_message_at = :at, gsi1sk = :sk"
    values: dict[str, Any] = {":at": sent_at, ":sk": f"{sent_at}#{conversation_id}"}
    for index, (name, value) in enumerate((also or {}).items()):
        expression += f", {name} = :also{index}"
        values[f":also{index}"] = value
    if recipient:
        expression += " ADD unread :one"
        values[":one"] = 1
    return {
        "Update": {
            "TableName": _table(),
            "Key": participant_key(conversation_id, role),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values,
        }
    }


def mark_read(conversation_id: str, role: str, previous: str | None, last_read: str, newly_read: int) -> dict:
    """Moves the read mark forward; the condition loses the race against another reader of the
    same entry (who then did the counting), so a message is never subtracted twice."""
    condition = "attribute_not_exists(last_read)" if previous is None else "last_read = :previous"
    values: dict[str, Any] = {":last": last_read, ":n": -newly_read}
    if previous is not None:
        values[":previous"] = previous
    return {
        "Update": {
            "TableName": _table(),
            "Key": participant_key(conversation_id, role),
            "UpdateExpression": "SET last_read = :last, read_at = :at ADD unread :n",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {**values, ":at": _now()},
        }
    }


def space_open_check(patient_id: str) -> dict:
    """Fails the transaction if the space was closed since it was read."""
    return layout.space_is_open(aws.table().name, patient_id)


def not_blocked_check(patient_id: str, rpps: str) -> dict:
    """Fails the transaction if the patient blocked this professional since the space was read."""
    return layout.not_blocked(aws.table().name, patient_id, rpps)


def put_mail_pointer(message_id_header: str, conversation_id: str, rpps: str, patient_id: str) -> dict:
    """A mail's Message-ID finds its conversation (core.data.layout mail_id): written once."""
    item = {
        **layout.mail_id(message_id_header),
        "conversation_id": conversation_id,
        "rpps": rpps,
        "patient_id": patient_id,
        "gsi1pk": mails_of(conversation_id),  # found again when the conversation is deleted
        "gsi1sk": layout.mail_id(message_id_header)["pk"],
    }
    return aws.put_new(item, TABLE)


def mails_of(conversation_id: str) -> str:
    return f"MAILS#{conversation_id}"


def mail_pointers(message_id_headers: list[str]) -> list[dict]:
    """The conversations these Message-IDs belong to (at most 100), known ones only."""
    keys = list({layout.mail_id(m)["pk"]: layout.mail_id(m) for m in message_id_headers}.values())
    return aws.batch_get(keys, TABLE) if keys else []


# --- closure ------------------------------------------------------------------------------------
def patient_inbox(patient_id: str) -> list[dict]:
    """Every inbox entry of the patient's conversations."""
    return aws.query_all(TABLE, IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(inbox(PATIENT, patient_id)))


def conversation_items(conversation_id: str) -> list[dict]:
    """Everything a conversation holds: both inbox entries, every message and its mails' pointers."""
    return aws.query_all(TABLE, KeyConditionExpression=Key("pk").eq(partition(conversation_id))) + aws.query_all(
        TABLE, IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(mails_of(conversation_id))
    )


def _now() -> str:
    from chalicelib.core import clock

    return clock.iso(clock.now())
