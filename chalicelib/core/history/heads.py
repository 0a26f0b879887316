"""Signed heads of the activity history: what a function that can write the table cannot forge
(docs/decisions/0006-signed-history-heads.md).

The signer (chalicelib/activity/events.py: its own function and role, fed by the table's stream)
signs each new head of a space's chain with the stack's asymmetric key, which only it may use to
sign, once it has checked that the chain from the last signed head leads to it; the signed head
goes into the heads bucket, whose Object Lock (compliance mode, 10 years) keeps any role from
overwriting or deleting it. ``latest`` gives the newest signed head of a space once its signature
is checked: the chain is then checked from there on, not from the genesis.

    heads/<patient_id>/<999999999999 - seq, 12 digits>-<hash>.json
    {"patient_id", "seq", "hash", "signed_at", "key_id", "algorithm", "signature"}

The inverted seq makes the newest head the first key listed (ListObjectsV2, MaxKeys=1). Nothing
but the opaque patient id and the chain's numbers: no identity, no health content.
"""

from __future__ import annotations

import base64
import json
from typing import Any, NamedTuple

from chalicelib.core import clock, logs
from chalicelib.core.data import aws, layout
from chalicelib.core.history import chain, journal
from chalicelib.core.memo import built_once
from chalicelib.core.settings import settings

ALGORITHM = "ECDSA_SHA_256"
PREFIX = "heads/"
# Signed in place of a hash when the chain does not lead to a new head: no chain hash spells it,
# so every check from it on fails, and the signer, finding it last, signs nothing more.
BROKEN = "broken"


class SignedHead(NamedTuple):
    seq: int
    hash: str


class ForgedHead(Exception):
    """The newest head of the bucket is not one the signing key signed for this space."""


def object_key(patient_id: str, head: SignedHead) -> str:
    return f"{PREFIX}{patient_id}/{chain.LAST_SEQ - head.seq:012d}-{head.hash}.json"


def _head_of(key: str) -> SignedHead:
    inverted, _, rest = key.rsplit("/", 1)[1].partition("-")
    return SignedHead(chain.LAST_SEQ - int(inverted), rest.removesuffix(".json"))


def canonical(patient_id: str, head: SignedHead) -> bytes:
    """What is signed: the space, the seq and the hash, in one serialisation only."""
    return json.dumps(
        {"hash": head.hash, "patient_id": patient_id, "seq": int(head.seq)}, sort_keys=True, separators=(",", ":")
    ).encode()


def _newest_key(patient_id: str) -> str | None:
    listed = aws.client("s3").list_objects_v2(
        Bucket=settings().heads_bucket, Prefix=f"{PREFIX}{patient_id}/", MaxKeys=1
    )
    contents = listed.get("Contents", [])
    return contents[0]["Key"] if contents else None


# ---- The signer ----------------------------------------------------------------------------------


def last_signed(patient_id: str) -> SignedHead | None:
    """The signer's own view: only it writes the bucket, the key names are its own."""
    key = _newest_key(patient_id)
    return _head_of(key) if key else None


def sign(patient_id: str, head: SignedHead, seen: tuple[SignedHead, ...] = ()) -> bool:
    """Signs ``head`` if the chain from the last signed head leads to it, through every head the
    stream ``seen`` on the way (a rewrite of events not signed yet, its chain recomputed, drops the
    hashes the stream recorded when they were appended); a head at or behind the last signed one
    (rewritten, moved back, or a record delivered twice) is never signed. A chain that does not
    lead to the head gets a signed BROKEN mark at its seq instead: ``verify`` then reports it,
    even if the chain was recomputed to look whole."""
    signed = last_signed(patient_id)
    if signed is not None and (signed.hash == BROKEN or head.seq <= signed.seq):
        return False
    first = signed.seq if signed else 1
    events = journal.events_from(patient_id, first, head.seq)
    on_the_way = all(
        events[passed.seq - first].get("hash") == passed.hash
        for passed in seen
        if first <= passed.seq <= head.seq and passed.seq - first < len(events)
    )
    if not on_the_way or not chain.verify(events, head._asdict(), since=signed):
        logs.error("activity chain does not lead to its new head: marked broken", patient_id=patient_id, seq=head.seq)
        _put_signed(patient_id, SignedHead(head.seq, BROKEN))
        return False
    _put_signed(patient_id, head)
    return True


def _put_signed(patient_id: str, head: SignedHead) -> None:
    answer = aws.client("kms").sign(
        KeyId=settings().heads_key_id,
        Message=canonical(patient_id, head),
        MessageType="RAW",
        SigningAlgorithm=ALGORITHM,
    )
    body = {
        "patient_id": patient_id,
        "seq": head.seq,
        "hash": head.hash,
        "signed_at": clock.iso(clock.now()),
        "key_id": answer["KeyId"],
        "algorithm": ALGORITHM,
        "signature": base64.b64encode(answer["Signature"]).decode(),
    }
    aws.client("s3").put_object(
        Bucket=settings().heads_bucket,
        Key=object_key(patient_id, head),
        Body=json.dumps(body, sort_keys=True).encode(),
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",  # S3 asks for a checksum of every object put under Object Lock
    )


def sign_changes(records: list[dict[str, Any]]) -> int:
    """The stream records of head changes (Lambda's DynamoDB event format, NEW_IMAGE): the newest
    head of each space in the batch signed once, if the chain holds every head of the batch.
    Returns how many were signed."""
    seen: dict[str, list[SignedHead]] = {}
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if not image or image.get("sk", {}).get("S") != layout.ACTIVITY_HEAD:
            continue  # the event source's filter lets only heads through; a removal signs nothing
        patient_id = layout.patient_id_of(image["pk"]["S"])
        seen.setdefault(patient_id, []).append(SignedHead(int(image["seq"]["N"]), image["hash"]["S"]))
    return sum(
        sign(patient_id, max(space_heads, key=lambda head: head.seq), tuple(space_heads))
        for patient_id, space_heads in seen.items()
    )


# ---- The reader ----------------------------------------------------------------------------------


@built_once
def _public_key(key_id: str) -> Any:
    """Fetched once per container, then every signature is checked locally (no KMS call)."""
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    return load_der_public_key(aws.client("kms").get_public_key(KeyId=key_id)["PublicKey"])


def is_signed(patient_id: str, head: SignedHead, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        _public_key(settings().heads_key_id).verify(signature, canonical(patient_id, head), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def latest(patient_id: str) -> SignedHead | None:
    """The newest signed head of the space, its signature checked; None if none was signed yet.
    Raises ForgedHead if the newest object is not one the signing key signed for this space."""
    key = _newest_key(patient_id)
    if key is None:
        return None
    obj = aws.client("s3").get_object(Bucket=settings().heads_bucket, Key=key)
    try:
        body = json.loads(obj["Body"].read())
        head = SignedHead(int(body["seq"]), str(body["hash"]))
        signature = base64.b64decode(body["signature"], validate=True)
    except (ValueError, KeyError, TypeError) as error:
        raise ForgedHead(key) from error
    if body.get("patient_id") != patient_id or _head_of(key) != head or not is_signed(patient_id, head, signature):
        raise ForgedHead(key)
    return head
