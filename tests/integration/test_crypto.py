"""The envelope format of stored content, read back with an independent Encryption SDK client."""

from __future__ import annotations

import aws_encryption_sdk
import pytest
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.identifiers import Algorithm, ContentType

from chalicelib.core.security import crypto
from chalicelib.core.settings import settings

CONTEXT = {"purpose": "test", "owner": "pat_1"}


def _independent_client():
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    return client, aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[settings().data_key_id])


def test_messages_are_non_framed_unsigned_committing_and_bound_to_their_context(cloud):
    client, provider = _independent_client()
    ciphertext = crypto.cipher().encrypt(b"%PDF-1.7 lab results", CONTEXT)
    plaintext, header = client.decrypt(source=ciphertext, key_provider=provider)
    assert plaintext == b"%PDF-1.7 lab results"
    assert header.algorithm is Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    assert header.content_type is ContentType.NO_FRAMING
    assert header.encryption_context == CONTEXT
    with pytest.raises(crypto.CannotDecrypt):
        crypto.cipher().decrypt(ciphertext, {**CONTEXT, "owner": "pat_2"})


def test_framed_messages_still_decrypt(cloud):
    client, provider = _independent_client()
    framed, _ = client.encrypt(
        source=b"x" * 10_000,
        key_provider=provider,
        encryption_context=CONTEXT,
        algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        frame_length=4096,
    )
    assert crypto.cipher().decrypt(framed, CONTEXT) == b"x" * 10_000


def test_bodies_above_the_bound_are_refused_both_ways(cloud):
    largest = b"y" * crypto.MAX_BODY_LENGTH
    assert crypto.cipher().decrypt(crypto.cipher().encrypt(largest, CONTEXT), CONTEXT) == largest
    too_big = b"x" * (crypto.MAX_BODY_LENGTH + 1)
    with pytest.raises(ValueError, match="more than decryption accepts"):
        crypto.cipher().encrypt(too_big, CONTEXT)
    client, provider = _independent_client()
    foreign, _ = client.encrypt(
        source=too_big,
        key_provider=provider,
        encryption_context=CONTEXT,
        algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        frame_length=0,
    )
    with pytest.raises(crypto.CannotDecrypt):
        crypto.cipher().decrypt(foreign, CONTEXT)


def test_only_the_data_key_opens_what_it_sealed(cloud):
    """Content sealed under another KMS key of the account (even one our role could use) does not
    open: data keys are unwrapped with the configured key only."""
    import boto3

    other_key = boto3.client("kms", region_name=settings().region).create_key()["KeyMetadata"]["Arn"]
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    foreign, _ = client.encrypt(
        source=b"sealed elsewhere",
        key_provider=aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[other_key]),
        encryption_context=CONTEXT,
        algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    )
    with pytest.raises(crypto.CannotDecrypt):
        crypto.cipher().decrypt(foreign, CONTEXT)
    assert crypto.cipher().decrypt(crypto.cipher().encrypt(b"ours", CONTEXT), CONTEXT) == b"ours"
