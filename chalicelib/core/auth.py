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


# The claims read for each role (API.md § Tokens), all strings; ``name`` is optional for every role.
ROLE_CLAIMS = {
    "patient": ("ins",),
    "professional": ("rpps", "profession"),
    "app": ("client_id", "patient_id", "scope"),
}
OPTIONAL_CLAIMS = ("name",)


def _check_types(claims: dict[str, Any]) -> None:
    """Every claim the service reads is a string, checked here once: nothing downstream meets a
    list where it expects a profession."""
    role = claims["role"]
    required = ("sub", "role", *ROLE_CLAIMS.get(role, ())) if isinstance(role, str) else ("role",)
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
