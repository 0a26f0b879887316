"""Encryption throughput: our Encryption SDK settings against raw AES-256-GCM and the SDK defaults.

Same machine, same run, KMS from moto in-process. Each figure is the best of N runs of encrypting
then decrypting one document (KMS calls included: one GenerateDataKey per encryption; decryption
goes through the caching materials manager, as in the app). Also compares frame sizes, which is
how FRAME_LENGTH in chalicelib/core/security/crypto.py was chosen.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench.harness import cloud

MIB = 1024 * 1024


def _best(runs: int, work) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


CONTEXT = {"purpose": "bench", "patient_id": "pat_bench", "document_id": "doc_bench"}


def _raw_aes(data: bytes) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    aes = AESGCM(key)
    aes.decrypt(nonce, aes.encrypt(nonce, data, None), None)


def _raw_aes_encrypt(data: bytes) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    AESGCM(AESGCM.generate_key(bit_length=256)).encrypt(os.urandom(12), data, None)


def _sdk(cipher, data: bytes) -> None:
    cipher.decrypt(cipher.encrypt(data, CONTEXT), CONTEXT)


def _defaults(key_id: str):
    """The SDK as it comes: signed suite (ECDSA P-384), 4 KiB frames, no cache."""
    import aws_encryption_sdk
    from aws_encryption_sdk import CommitmentPolicy

    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[key_id])

    def work(data: bytes) -> None:
        ciphertext, _ = client.encrypt(source=data, key_provider=provider, encryption_context={"purpose": "bench"})
        client.decrypt(source=ciphertext, key_provider=provider)

    return work


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench crypto")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    with cloud():
        from chalicelib.core.security import crypto
        from chalicelib.core.settings import settings

        defaults = _defaults(settings().data_key_id)
        print(f"encrypt + decrypt, best of {args.runs}; MB/s and share of raw AES-256-GCM (goal ≥ 30%)")
        print(f"{'size':>6}  {'raw AES-GCM':>12}  {'ours (non-framed, unsigned)':>31}  {'SDK defaults':>22}")
        for size in (1 * MIB, 4 * MIB):
            data = os.urandom(size)
            raw = _best(args.runs, lambda data=data: _raw_aes(data))
            ours = _best(args.runs, lambda data=data: _sdk(crypto.cipher(), data))
            default = _best(max(1, args.runs // 2), lambda data=data: defaults(data))

            def mbs(seconds: float, size: int = size) -> float:
                return size / MIB / seconds

            print(
                f"{size // MIB:>4} MiB  {mbs(raw):>8.0f} MB/s  {mbs(ours):>17.0f} MB/s ({raw / ours:>5.0%})"
                f"  {mbs(default):>8.0f} MB/s ({raw / default:>5.0%})"
            )
        print("\nencryption alone (a deposit), share of raw AES-256-GCM encryption")
        for size in (1 * MIB, 4 * MIB):
            data = os.urandom(size)
            raw = _best(args.runs, lambda data=data: _raw_aes_encrypt(data))
            ours = _best(args.runs, lambda data=data: crypto.cipher().encrypt(data, CONTEXT))
            print(
                f"  {size // MIB} MiB  raw {size / MIB / raw:>6.0f} MB/s  ours {size / MIB / ours:>6.0f} MB/s  "
                f"({raw / ours:.0%})"
            )
        print("\nframe size, 4 MiB document (same unsigned suite; 0 = non-framed)")
        data = os.urandom(4 * MIB)
        raw = _best(args.runs, lambda: _raw_aes(data))
        chosen = crypto.FRAME_LENGTH
        for frame in (4 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024, 0):
            crypto.FRAME_LENGTH = frame
            crypto.cipher.cache_clear()  # type: ignore[attr-defined]  # core.memo.built_once adds it
            took = _best(args.runs, lambda: _sdk(crypto.cipher(), data))
            mark = "  <- chosen" if frame == chosen else ""
            label = f"{frame // 1024:>5} KiB frames" if frame else "   non-framed"
            print(f"  {label}  {4 / took:>6.0f} MB/s  ({raw / took:.0%} of raw){mark}")
        crypto.FRAME_LENGTH = chosen


if __name__ == "__main__":
    main(sys.argv[1:])
