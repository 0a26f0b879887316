"""Encrypted content in S3 (documents; message bodies and attachments), never left half-written.

Each module owning content has its own bucket (a ``Bucket`` here: documents, messages), so that a
function's role reaches only its own module's content. Objects are keyed by an opaque id only.
Content is encrypted before it leaves the process (core.security.crypto), with an encryption
context naming its owner; the bucket adds SSE-KMS underneath.

Writes are guarded by an orphan marker: a DynamoDB item saying "this object may be unowned".
- storing: marker → object → the caller's transaction creates the metadata AND deletes the marker;
- removing: the caller's transaction deletes the metadata AND writes the marker → object versions
  are deleted → marker deleted.
Any failure in between leaves a marker, and ``sweep`` (a scheduled handler) finishes the job, so
there is never metadata without content nor content that nobody cleans up.

When the caller's transaction fails, the content goes at once only if the failure proves nothing
was written (``abandon``): a write may have committed before its answer was lost (a read timeout,
a closed connection, the function stopped), and deleting then would leave metadata whose content
is gone for ever. Whatever is not proven unwritten keeps its marker: the sweeper, once the outcome
is settled, keeps the object if its owner exists and deletes it otherwise.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.core import clock, logs
from chalicelib.core.data import aws, layout
from chalicelib.core.errors import ApiError, is_condition_failure
from chalicelib.core.security import crypto
from chalicelib.core.settings import settings

SWEEP_AFTER = timedelta(minutes=15)


class IntegrityError(ApiError):
    status = 500
    code = "integrity_error"


def nothing_written(error: BaseException) -> bool:
    """Whether a failed write is known to have written nothing: DynamoDB cancelled the transaction
    (a condition failed), or our own code refused before or instead of writing (an ApiError: a lost
    race, a policy decision). Anything else may have come after a commit."""
    return isinstance(error, ApiError) or is_condition_failure(error)


class Bucket:
    """The content of one module, in its own bucket: ``kind`` is "documents" or "messages"
    (settings ``<KIND>_BUCKET``); its orphan markers are in the module's table (core.data.layout
    CONTENT_TABLES) beside the items owning the content, and indexed apart."""

    def __init__(self, kind: str):
        self.kind = kind
        self.table = layout.CONTENT_TABLES[kind]
        self._orphans = layout.orphans_index(kind)

    @property
    def name(self) -> str:
        return settings().bucket(self.kind)

    def _marker(self, object_key: str, owner: str) -> dict[str, Any]:
        """A marker: the object is unowned unless ``owner`` (a table key "pk|sk") exists."""
        now = clock.iso(clock.now())
        return {
            **layout.orphan(object_key),
            "object_key": object_key,
            "owner": owner,
            "gsi1pk": self._orphans,
            "gsi1sk": now,
        }

    def put_marker_item(self, object_key: str, owner: str) -> dict[str, Any]:
        return {"Put": {"TableName": aws.table(self.table).name, "Item": self._marker(object_key, owner)}}

    def delete_marker_item(self, object_key: str) -> dict[str, Any]:
        return {"Delete": {"TableName": aws.table(self.table).name, "Key": layout.orphan(object_key)}}

    def store(self, object_key: str, content: bytes, context: dict[str, str], owner: str) -> str:
        """Encrypts and uploads; returns the plaintext's SHA-256. The caller's transaction must
        include ``delete_marker_item(object_key)``; on failure the caller calls ``abandon``."""
        aws.table(self.table).put_item(Item=self._marker(object_key, owner))
        ciphertext = crypto.cipher().encrypt(content, context)
        aws.client("s3").put_object(Bucket=self.name, Key=object_key, Body=ciphertext)
        return hashlib.sha256(content).hexdigest()

    def load(self, object_key: str, context: dict[str, str], sha256: str) -> bytes:
        body = aws.client("s3").get_object(Bucket=self.name, Key=object_key)["Body"].read()
        try:
            content = crypto.cipher().decrypt(body, context)
        except crypto.CannotDecrypt as error:
            logs.error("content failed to decrypt", object_key=object_key)
            raise IntegrityError("This content cannot be read: its stored copy is not the one deposited.") from error
        if hashlib.sha256(content).hexdigest() != sha256:
            logs.error("content failed its integrity check", object_key=object_key)
            raise IntegrityError("This content cannot be read: its stored copy is not the one deposited.")
        return content

    def abandon(self, object_keys: list[str], error: BaseException) -> None:
        """The caller's transaction failed with ``error``: discards the objects if it wrote nothing,
        else leaves them, behind their markers, to the sweeper."""
        if nothing_written(error):
            self.discard_all(object_keys)
        else:
            logs.warning(
                "write outcome unknown: its content is left to the sweeper", bucket=self.kind, objects=len(object_keys)
            )

    def discard_all(self, object_keys: list[str]) -> None:
        """Discards each object; one that fails keeps its marker, and the sweeper finishes."""
        for object_key in object_keys:
            try:
                self.discard(object_key)
            except Exception:  # noqa: BLE001 - one that fails keeps its marker: the sweeper finishes
                logs.error("content discard failed", exc_info=True, bucket=self.kind)

    def discard(self, object_key: str) -> None:
        """Deletes every version of the object, then its marker."""
        s3 = aws.client("s3")
        versions = s3.list_object_versions(Bucket=self.name, Prefix=object_key)
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])
            if v["Key"] == object_key
        ]
        if doomed:
            s3.delete_objects(Bucket=self.name, Delete={"Objects": doomed, "Quiet": True})
        aws.table(self.table).delete_item(Key=layout.orphan(object_key))

    def sweep(self, now: Any = None) -> int:
        """Scheduled: finishes the stores and removals a failure interrupted."""
        cutoff = clock.iso((now or clock.now()) - SWEEP_AFTER)
        markers = (
            aws.table(self.table)
            .query(IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(self._orphans) & Key("gsi1sk").lte(cutoff))
            .get("Items", [])
        )
        swept = 0
        for marker in markers:
            owner_pk, owner_sk = marker["owner"].split("|", 1)
            if aws.table(self.table).get_item(Key={"pk": owner_pk, "sk": owner_sk}).get("Item"):
                aws.table(self.table).delete_item(Key=layout.orphan(marker["object_key"]))  # its owner exists: keep
            else:
                self.discard(marker["object_key"])
                swept += 1
        logs.info("orphan content swept", bucket=self.kind, swept=swept, markers=len(markers))
        return swept
