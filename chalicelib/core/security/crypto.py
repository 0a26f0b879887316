"""Envelope encryption of documents and messages with the AWS Encryption SDK under the KMS key.

- Unsigned committing suite (AES-256-GCM, HKDF-SHA512, key commitment): the default suite signs
  every message with ECDSA P-384, which on our machines ran at 4% of raw AES-GCM speed for no
  gain here (readers and writers are the same trusted service); bench/ has the figures.
- Non-framed messages (frame length 0): one AES-GCM pass over the whole body, authenticated
  before any plaintext is returned. Contents are at most 4 MiB and held in memory anyway, so
  frames buy no streaming here, only cost: on a 4 MiB document 4 KiB frames (the default) ran at
  1% of raw AES-GCM, 64 KiB at ~10%, 1 MiB at ~20-30%, non-framed at ~35-42% (bench/crypto.py).
  Decryption refuses bodies larger than MAX_BODY_LENGTH.
- Each stream read copies its output several times inside the SDK, so the whole message is read
  in one call rather than in chunks.
- The encryption context binds a ciphertext to its owner (patient, object): decrypt refuses a
  ciphertext whose context differs, so a blob copied under another document does not open.
- A caching materials manager saves a KMS call on repeated reads; it is built by ``cipher()``
  and dropped by ``reset()``, so it never outlives the AWS endpoint (a moto world in tests).
- The SDK is imported on first use: it costs ~0.3 s of cold start.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.data import aws
from chalicelib.core.memo import built_once
from chalicelib.core.settings import settings

FRAME_LENGTH = 0
MAX_BODY_LENGTH = 4 * 1024 * 1024  # the largest content we accept (a document, an attachment)
READ_SIZE = 2 * MAX_BODY_LENGTH  # more than any message: one read returns it whole
CACHE_CAPACITY = 256
CACHE_MAX_AGE_SECONDS = 300.0


class CannotDecrypt(Exception):
    """Not a ciphertext of this owner: another owner's context, altered bytes, or too large."""


class Cipher:
    def __init__(self, key_id: str):
        import aws_encryption_sdk
        from aws_encryption_sdk import CommitmentPolicy
        from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
        from aws_encryption_sdk.identifiers import Algorithm
        from aws_encryption_sdk.key_providers.kms import KMSMasterKey, KMSMasterKeyConfig
        from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager

        self._client = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
        )
        # The one KMS key as its own provider, on the process's KMS client: a KMS key provider would
        # build a botocore session and a client of its own (~20 ms of each cold start). It wraps and
        # unwraps data keys with that key only, as the strict provider of that one key did.
        key = KMSMasterKey(config=KMSMasterKeyConfig(key_id=key_id, client=aws.client("kms")))
        self._materials = CachingCryptoMaterialsManager(
            master_key_provider=key,
            cache=LocalCryptoMaterialsCache(capacity=CACHE_CAPACITY),
            max_age=CACHE_MAX_AGE_SECONDS,
        )
        self._algorithm = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY

    # The streams are read with an explicit size: the SDK's encrypt()/decrypt() helpers, and
    # read() without a size, iterate them line by line: thousands of small reads on binary data.
    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        if len(plaintext) > MAX_BODY_LENGTH:
            raise ValueError(f"{len(plaintext)} bytes: more than decryption accepts ({MAX_BODY_LENGTH})")
        with self._client.stream(
            mode="e",
            source=plaintext,
            materials_manager=self._materials,
            encryption_context=context,
            algorithm=self._algorithm,
            frame_length=FRAME_LENGTH,
        ) as encryptor:
            return _read_all(encryptor)

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes:
        from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError

        try:
            with self._client.stream(
                mode="d", source=ciphertext, materials_manager=self._materials, max_body_length=MAX_BODY_LENGTH
            ) as decryptor:
                plaintext = _read_all(decryptor)
                header = decryptor.header
        except AWSEncryptionSDKClientError as error:
            raise CannotDecrypt("the ciphertext does not decrypt") from error
        stored: dict[str, Any] = header.encryption_context
        if any(stored.get(name) != value for name, value in context.items()):
            raise CannotDecrypt("the ciphertext belongs to another owner")
        return plaintext


def seal(text: str, context: dict[str, str]) -> bytes:
    """A short text (a subject, a reason) as a ciphertext to keep in a table attribute."""
    return cipher().encrypt(text.encode(), context)


def unseal(sealed: Any, context: dict[str, str]) -> str:
    """The text of ``seal``; ``sealed`` as the table gives it back (bytes or boto3's Binary)."""
    return cipher().decrypt(bytes(sealed), context).decode()


def _read_all(stream: Any) -> bytes:
    chunks = []
    while chunk := stream.read(READ_SIZE):
        chunks.append(chunk)
    return b"".join(chunks)


@built_once
def cipher() -> Cipher:
    return Cipher(settings().data_key_id)
