"""Keyed hashes that let us find a record by a sensitive value without storing it in a key.

The INS never appears in a DynamoDB key: the index item is keyed by HMAC-SHA256(INS) under a
secret held in Secrets Manager (the peppers), read once per process. Provisional codes are stored
the same way, under a separate derived key. List cursors are sealed (core.http.pagination) under a
key of their own secret: a function that lists but finds nobody by INS (the migration API) never
holds the peppers.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from chalicelib.core.data import aws
from chalicelib.core.memo import built_once
from chalicelib.core.settings import settings


@built_once
def _secret(secret_id: str, field: str) -> bytes:
    secret = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)
    value: str = json.loads(secret["SecretString"])[field]
    return value.encode()


def _root_key() -> bytes:
    return _secret(settings().peppers_secret_id, "hmac_key")


def cursor_key() -> bytes:
    """The 256-bit key sealing list cursors, from its own secret."""
    return hashlib.sha256(_secret(settings().cursor_secret_id, "cursor_key")).digest()


def derived_key(purpose: str) -> bytes:
    """A 256-bit key of the stack for one purpose: knowing one tells nothing of the others."""
    return hmac.new(_root_key(), purpose.encode(), hashlib.sha256).digest()


def _digest(purpose: str, value: str) -> str:
    return hmac.new(derived_key(purpose), value.encode(), hashlib.sha256).hexdigest()


def ins_digest(ins: str) -> str:
    return _digest("ins-index", ins)


def code_digest(code: str, patient_id: str) -> str:
    """Bound to the person so a stored hash is useless for another invitation."""
    return _digest("provisional-code", f"{patient_id}:{code}")
