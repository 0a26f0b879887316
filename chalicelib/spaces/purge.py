"""Immediate deletion at closure (``POST /v1/me/close {"delete_now": true}``).

Everything the space holds goes, content first (every S3 version, through core.blobs), except
what must outlive it: the account (status ``closed``), its access settings and the activity
history, which says what was deleted. Conversations go on both sides: the person asked for
their data to be deleted, and a conversation's messages are theirs as much as the professional's.
"""

from __future__ import annotations

from boto3.dynamodb.conditions import Key

from chalicelib.activity import service as activity
from chalicelib.activity.models import ActorRef
from chalicelib.core import aws, blobs, logs

KEPT = ("SPACE#ACCOUNT", "SPACE#ACTIVITY_HEAD", "SPACE#GRANT#", "SPACE#BLOCK#", "SPACE#EMERGENCY#", "ACT#")


def _delete(items: list[dict]) -> None:
    with aws.table().batch_writer() as batch:
        for item in items:
            batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})


def _conversations(patient_id: str, actor: ActorRef) -> int:
    from chalicelib.messaging import store as messaging

    inbox = aws.query_all(IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(messaging.inbox("patient", patient_id)))
    for entry in inbox:
        items = aws.query_all(KeyConditionExpression=Key("pk").eq(messaging.partition(entry["conversation_id"])))
        for message in (item for item in items if item["sk"].startswith("MSG#")):
            for key in [message["object_key"], *(part["object_key"] for part in message.get("attachments", []))]:
                blobs.discard(key)
        _delete(items)
        activity.record(patient_id, actor, "conversation.deleted", entry["conversation_id"])
    return len(inbox)


def purge(patient_id: str, actor: ActorRef) -> None:
    from chalicelib.documents import service as documents

    deleted_documents = documents.purge_space(patient_id, actor)
    deleted_conversations = _conversations(patient_id, actor)
    rest = [
        item
        for item in aws.query_all(KeyConditionExpression=Key("pk").eq(f"PAT#{patient_id}"))
        if not item["sk"].startswith(KEPT)
    ]
    _delete(rest)
    activity.record(patient_id, actor, "space.purged", f"{len(rest)} profile, agenda and connection items")
    logs.info("space purged", documents=deleted_documents, conversations=deleted_conversations, items=len(rest))
