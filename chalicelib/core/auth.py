"""Bearer token verification (API.md § Tokens).

Signature against the configured JWKS, ``iss``, ``aud``, ``exp``; the algorithm is pinned to
the asymmetric ones and must match the key it names, so ``none`` and the HMAC-with-public-key
confusion are refused. PyJWT and cryptography are imported on first use, not at cold start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from chalicelib.core.matrix import PROFESSIONS
from chalicelib.core.errors import Unauthenticated
from chalicelib.core.identifiers import InvalidIdentifier, normalize_ins, normalize_rpps
from chalicelib.core.settings import settings

ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256")


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


def _bad_token(reason: str) -> Unauthenticated:
    return Unauthenticated(f"{reason} Sign in again to get a fresh token.")


@lru_cache(maxsize=1)
def _jwks_client() -> Any:
    import jwt

    return jwt.PyJWKClient(settings().jwks_url, cache_keys=True, lifespan=3600)


@lru_cache(maxsize=8)
def _inline_keys(jwks_json: str) -> dict[str, Any]:
    import jwt

    keys = jwt.PyJWKSet.from_json(jwks_json).keys if jwks_json else []
    return {key.key_id: key for key in keys}


def _signing_key(kid: str) -> Any:
    if settings().jwks_url:
        import jwt

        try:
            return _jwks_client().get_signing_key(kid)
        except jwt.PyJWKClientError as exc:
            raise _bad_token("The token is signed by an unknown key.") from exc
    key = _inline_keys(settings().jwks_json).get(kid)
    if key is None:
        raise _bad_token("The token is signed by an unknown key.")
    return key


def verify(token: str) -> Principal:
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _bad_token("The bearer token is malformed.") from exc
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise _bad_token("The token's signing algorithm is not accepted.")
    key = _signing_key(str(header.get("kid", "")))
    if getattr(key, "algorithm_name", algorithm) != algorithm:
        raise _bad_token("The token's algorithm does not match its key.")
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=[algorithm],
            audience=settings().token_audience,
            issuer=list(settings().token_issuers),
            leeway=30,
            options={"require": ["iss", "aud", "exp", "iat", "sub", "role"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _bad_token("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise _bad_token("The token is invalid.") from exc
    return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    role = claims["role"]
    if not isinstance(role, str) or not isinstance(claims["sub"], str):
        raise _bad_token("The token's role and subject must be strings.")
    try:
        if role == "patient":
            claims["ins"] = normalize_ins(str(claims.get("ins", "")))
        elif role == "professional":
            claims["rpps"] = normalize_rpps(str(claims.get("rpps", "")))
            if claims.get("profession") not in PROFESSIONS:
                raise _bad_token("The token's profession is not one this service knows.")
        elif role == "app":
            if not all(isinstance(claims.get(name), str) for name in ("client_id", "patient_id", "scope")):
                raise _bad_token("An app token needs client_id, patient_id and scope.")
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
