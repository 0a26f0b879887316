"""Keyed hashes that let us find a record by a sensitive value without storing it in a key.

The INS never appears in a DynamoDB key: the index item is keyed by HMAC-SHA256(INS) under a
secret held in Secrets Manager, read once per process. Provisional codes are stored the same
way, under a separate derived key; list cursors are sealed under another (core.http.pagination).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from chalicelib.core.data import aws
from chalicelib.core.memo import built_once
from chalicelib.core.settings import settings


@built_once
def _root_key() -> bytes:
    secret = aws.client("secretsmanager").get_secret_value(SecretId=settings().peppers_secret_id)
    key: str = json.loads(secret["SecretString"])["hmac_key"]
    return key.encode()


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
