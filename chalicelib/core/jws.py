"""Compact JWS signatures (RFC 7515) and the JWK public keys that check them (RFC 7517, 7518).

Only what token verification needs: the three asymmetric algorithms the service accepts, RSA and
P-256 public keys, a JWK Set read from JSON or fetched from a URL. The claims are core/auth.py's.

Why not PyJWT at run time: importing it costs every API function ~45 ms of cold start (it loads
cryptography's x509, urllib and http.client for features this service does not use; measured by
``python -m bench coldstart``), where these checks are a few calls into cryptography's primitives.
tests/unit/test_jws.py holds this module to PyJWT's answers: what PyJWT signs verifies here, and
every tampering (payload, header, algorithm, key, signature) is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import string
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

ALGORITHMS = ("RS256", "PS256", "ES256")
# The algorithm a key is for when its JWK names none (RFC 7518 § 3: one key, one algorithm).
DEFAULT_ALGORITHM = {"RSA": "RS256", "EC": "ES256"}
MIN_RSA_BITS = 2048
ES256_SIGNATURE_BYTES = 64  # r and s, 32 bytes each (RFC 7518 § 3.4)
BASE64URL = frozenset(string.ascii_letters + string.digits + "-_")  # no padding (RFC 7515 § 2)


class InvalidToken(ValueError):
    """The token cannot be trusted; the message says why, for the caller's 401."""


@dataclass(frozen=True)
class Token:
    """A compact JWS split and decoded; nothing in it is trusted before ``verify``."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


@dataclass(frozen=True)
class PublicKey:
    kid: str
    algorithm: str
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey

    def verify(self, token: Token) -> None:
        """Raises InvalidToken unless ``token`` is signed by this key with this key's algorithm."""
        algorithm = token.header.get("alg")
        if algorithm not in ALGORITHMS:
            raise InvalidToken("The token's signing algorithm is not accepted.")
        if algorithm != self.algorithm:
            raise InvalidToken("The token's algorithm does not match its key.")
        try:
            if algorithm == "ES256":
                if len(token.signature) != ES256_SIGNATURE_BYTES:
                    raise InvalidSignature
                r, s = int.from_bytes(token.signature[:32], "big"), int.from_bytes(token.signature[32:], "big")
                self.key.verify(utils.encode_dss_signature(r, s), token.signing_input, ec.ECDSA(hashes.SHA256()))
            elif algorithm == "PS256":
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
                self.key.verify(token.signature, token.signing_input, pss, hashes.SHA256())
            else:
                self.key.verify(token.signature, token.signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise InvalidToken("The token is invalid.") from None


def _b64decode(segment: str) -> bytes:
    """base64url without padding, refusing any character outside its alphabet and any encoding
    but the canonical one (unused trailing bits set would give one token many spellings)."""
    if not BASE64URL.issuperset(segment):
        raise InvalidToken("The bearer token is malformed.")
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("The bearer token is malformed.") from None
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != segment.encode():
        raise InvalidToken("The bearer token is malformed.")
    return decoded


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(segment), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        raise InvalidToken("The bearer token is malformed.") from None
    if not isinstance(value, dict):
        raise InvalidToken("The bearer token is malformed.")
    return value


def parse(token: str) -> Token:
    """Splits a compact JWS; refuses what is not one, and any critical extension (RFC 7515 § 4.1.11:
    this service implements none, so it must not accept a token that needs one)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("The bearer token is malformed.")
    header, payload, signature = parts
    decoded = Token(_json_object(header), _json_object(payload), f"{header}.{payload}".encode(), _b64decode(signature))
    if "crit" in decoded.header:
        raise InvalidToken("The token needs an extension this service does not implement.")
    return decoded


def _integer(jwk: dict[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"JWK member '{name}' is missing")
    return int.from_bytes(_b64decode(value), "big")


def public_key(jwk: dict[str, Any]) -> PublicKey | None:
    """The signing key a JWK describes, or None if it is not one this service can use (another
    use, type, curve or algorithm, or an RSA key shorter than 2048 bits)."""
    kty = jwk.get("kty")
    algorithm = jwk.get("alg", DEFAULT_ALGORITHM.get(kty))
    if jwk.get("use", "sig") != "sig" or algorithm not in ALGORITHMS or not isinstance(jwk.get("kid", ""), str):
        return None
    try:
        if kty == "RSA" and algorithm in ("RS256", "PS256"):
            key: Any = rsa.RSAPublicNumbers(_integer(jwk, "e"), _integer(jwk, "n")).public_key()
            if key.key_size < MIN_RSA_BITS:
                return None
        elif kty == "EC" and algorithm == "ES256" and jwk.get("crv") == "P-256":
            key = ec.EllipticCurvePublicNumbers(_integer(jwk, "x"), _integer(jwk, "y"), ec.SECP256R1()).public_key()
        else:
            return None
    except ValueError:  # not base64url (InvalidToken is one), or a point off the curve
        return None
    return PublicKey(kid=jwk.get("kid", ""), algorithm=algorithm, key=key)


def key_set(jwks: Any) -> dict[str, PublicKey]:
    """The usable keys of a JWK Set, by key id."""
    members = jwks.get("keys") if isinstance(jwks, dict) else None
    keys = (public_key(jwk) for jwk in members if isinstance(jwk, dict)) if isinstance(members, list) else ()
    return {key.kid: key for key in keys if key is not None}


class RemoteKeySet:
    """A JWK Set fetched from its URL, kept for ``lifespan`` seconds; a key id it lacks fetches it
    again (the issuer rotated its keys), but not more often than every ``refetch_after`` seconds,
    so tokens naming made-up key ids cannot turn into a flood of requests to the issuer."""

    def __init__(self, url: str, lifespan: float = 3600, refetch_after: float = 30, timeout: float = 5) -> None:
        self.url, self.lifespan, self.refetch_after, self.timeout = url, lifespan, refetch_after, timeout
        self._keys: dict[str, PublicKey] = {}
        self._fetched_at = float("-inf")

    def get(self, kid: str) -> PublicKey | None:
        age = time.monotonic() - self._fetched_at
        if age >= self.lifespan or (kid not in self._keys and age >= self.refetch_after):
            self._refresh()
        return self._keys.get(kid)

    def _refresh(self) -> None:
        from urllib.request import urlopen  # only where keys are fetched: http.client is heavy to import

        self._fetched_at = time.monotonic()  # a failed fetch waits like a successful one
        try:
            with urlopen(self.url, timeout=self.timeout) as response:  # noqa: S310 (the configured https URL)
                self._keys = key_set(json.loads(response.read()))
        except (OSError, ValueError):  # unreachable (URLError is an OSError), or not a JWK Set's JSON
            pass  # keep the keys already known: the issuer being down must not log everybody out
