"""Bearer token verification (API.md § Tokens).

Signature against the configured JWKS (core/jws.py), ``iss``, ``aud``, ``exp``; the algorithm is
pinned to the asymmetric ones and must match the key it names, so ``none`` and the
HMAC-with-public-key confusion are refused. cryptography is imported on first use (the routes
import this module; a request without a token never loads it).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.core.matrix import PROFESSIONS
from chalicelib.core.errors import Unauthenticated
from chalicelib.core.identifiers import InvalidIdentifier, normalize_ins, normalize_rpps
from chalicelib.core.settings import settings

if TYPE_CHECKING:
    from chalicelib.core import jws


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says. Holds no decision: the access policy decides."""

    role: str
    sub: str
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def ins(self) -> str:
        return self.claims["ins"]

    @property
    def rpps(self) -> str:
        return self.claims["rpps"]

    @property
    def profession(self) -> str:
        return self.claims["profession"]

    @property
    def name(self) -> str:
        return self.claims.get("name", "")

    @property
    def client_id(self) -> str:
        return self.claims["client_id"]

    @property
    def app_patient_id(self) -> str:
        return self.claims["patient_id"]

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(str(self.claims.get("scope", "")).split())

    @property
    def identity(self) -> str:
        """Who this is, whichever of their tokens they hold: the identifier of their role."""
        if self.role == "patient":
            return f"patient:{self.ins}"
        if self.role == "professional":
            return f"professional:{self.rpps}"
        if self.role == "app":
            return f"app:{self.client_id}:{self.app_patient_id}"
        return f"{self.role}:{self.sub}"


def _bad_token(reason: str) -> Unauthenticated:
    return Unauthenticated(f"{reason} Sign in again to get a fresh token.")


@lru_cache(maxsize=8)
def _remote_keys(jwks_url: str) -> jws.RemoteKeySet:
    from chalicelib.core import jws

    return jws.RemoteKeySet(jwks_url)


@lru_cache(maxsize=8)
def _inline_keys(jwks_json: str) -> dict[str, jws.PublicKey]:
    from chalicelib.core import jws

    return jws.key_set(json.loads(jwks_json)) if jwks_json else {}


def _signing_key(kid: str) -> jws.PublicKey:
    if settings().jwks_url:
        key = _remote_keys(settings().jwks_url).get(kid)
    else:
        key = _inline_keys(settings().jwks_json).get(kid)
    if key is None:
        raise _bad_token("The token is signed by an unknown key.")
    return key


def verify(token: str) -> Principal:
    from chalicelib.core import jws  # cryptography with it: on the first request that has a token

    try:
        parsed = jws.parse(token)
        kid = parsed.header.get("kid", "")
        _signing_key(kid if isinstance(kid, str) else "").verify(parsed)
    except jws.InvalidToken as exc:
        raise _bad_token(str(exc)) from exc
    _check_registered_claims(parsed.payload)
    return _principal(parsed.payload)


REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub", "role")
LEEWAY_SECONDS = 30  # clock skew between the issuer and us


def _check_registered_claims(claims: dict[str, Any]) -> None:
    """RFC 7519 § 4.1: issued by an issuer we trust, for this API, within its validity."""
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise _bad_token(f"The token lacks its '{name}' claim.")
    times = {name: claims[name] for name in ("exp", "iat", "nbf") if name in claims}
    if any(isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) for value in times.values()):
        raise _bad_token("The token's times (exp, iat, nbf) must be numbers.")
    now = time.time()
    if times["exp"] <= now - LEEWAY_SECONDS:
        raise _bad_token("The token has expired.")
    if max(times["iat"], times.get("nbf", times["iat"])) > now + LEEWAY_SECONDS:
        raise _bad_token("The token is not valid yet.")
    if not isinstance(claims["iss"], str) or claims["iss"] not in settings().token_issuers:
        raise _bad_token("The token is not from an issuer this service trusts.")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if settings().token_audience not in audiences:
        raise _bad_token("The token is not meant for this service.")


# The claims read for each role (API.md § Tokens), all strings; ``name`` is optional for every role.
ROLE_CLAIMS = {
    "patient": ("ins",),
    "professional": ("rpps", "profession"),
    "app": ("client_id", "patient_id", "scope"),
}
OPTIONAL_CLAIMS = ("name",)
# Identifiers made of digits: an issuer (or `devstack token --claim rpps=10000000009`, which reads
# a value as JSON when it parses) may write them as JSON numbers; the number's digits are the
# identifier, then checked like any other (an INS or RPPS never starts with 0).
NUMERIC_IDENTIFIERS = ("ins", "rpps")


def _check_types(claims: dict[str, Any]) -> None:
    """Every claim the service reads is a string, checked here once: nothing downstream meets a
    list where it expects a profession."""
    role = claims["role"]
    required = ("sub", "role", *ROLE_CLAIMS.get(role, ())) if isinstance(role, str) else ("role",)
    for name in NUMERIC_IDENTIFIERS:
        if type(claims.get(name)) is int:  # not bool, not float
            claims[name] = str(claims[name])
    for name in required:
        if not isinstance(claims.get(name), str):
            raise _bad_token(f"The token's '{name}' claim is missing or not a string.")
    for name in OPTIONAL_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            raise _bad_token(f"The token's '{name}' claim must be a string.")


def _principal(claims: dict[str, Any]) -> Principal:
    _check_types(claims)
    role = claims["role"]
    try:
        if role == "patient":
            claims["ins"] = normalize_ins(claims["ins"])
        elif role == "professional":
            claims["rpps"] = normalize_rpps(claims["rpps"])
            if claims["profession"] not in PROFESSIONS:
                raise _bad_token("The token's profession is not one this service knows.")
    except InvalidIdentifier as exc:
        raise _bad_token("The token's identifier is invalid.") from exc
    return Principal(role=role, sub=claims["sub"], claims=claims)


def from_authorization_header(value: str | None) -> Principal:
    if not value:
        raise Unauthenticated("This endpoint needs an 'Authorization: Bearer <token>' header.")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("The Authorization header must read 'Bearer <token>'.")
    return verify(token.strip())
