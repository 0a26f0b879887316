"""Provisional codes: random, 50 bits, no look-alike characters, typed back in any case with
spaces or dashes. Only a keyed hash is ever stored (see core.security.pseudonyms)."""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
LENGTH = 10  # 31**10 ≈ 2**49.5
_SEPARATORS = re.compile(r"[\s\-]+")


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize(code: str) -> str:
    return _SEPARATORS.sub("", code).upper()
