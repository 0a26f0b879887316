"""Bearer token verification (docs/api.md § Tokens).

PyJWT checks the signature against the configured JWKS (inline JWKS_JSON, or fetched from
JWKS_URL); the claims (``iss``, ``aud``, the times, the role's own) are checked here. The algorithm
is pinned to the asymmetric ones and must be the one its key is for, so ``none`` and the
HMAC-with-public-key confusion are refused. Whatever a token holds, reading it ends in a 401,
never a 500. PyJWT (and cryptography) are imported on first use: the routes import this module,
and a request without a token never loads them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.core import logs
from chalicelib.core.errors import Unauthenticated
from chalicelib.core.security.identifiers import PROFESSIONS, InvalidIdentifier, normalize_ins, normalize_rpps
from chalicelib.core.settings import settings

if TYPE_CHECKING:
    from jwt import PyJWK
    from jwt.types import Options


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says. Holds no decision: the access policy decides."""

    role: str
    sub: str
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def _claim(self, name: str, default: str | None = None) -> str:
        """A claim checked a string when the token was read (``from_authorization_header``)."""
        claim: str = self.claims[name] if default is None else self.claims.get(name, default)
        return claim

    @property
    def ins(self) -> str:
        return self._claim("ins")

    @property
    def rpps(self) -> str:
        return self._claim("rpps")

    @property
    def profession(self) -> str:
        return self._claim("profession")

    @property
    def name(self) -> str:
        return self._claim("name", "")

    @property
    def client_id(self) -> str:
        return self._claim("client_id")

    @property
    def app_patient_id(self) -> str:
        return self._claim("patient_id")

    @property
    def regulation(self) -> bool:
        """A SAMU regulator doctor (claim checked a boolean when the token was read)."""
        return self.claims.get("regulation") is True

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


ALGORITHMS = ("RS256", "PS256", "ES256")
# The algorithm a key is for when its JWK names none (RFC 7518 § 3: one key, one algorithm).
DEFAULT_ALGORITHM = {"RSA": "RS256", "EC": "ES256"}
MIN_RSA_BITS = 2048


def _usable_key(member: Any) -> PyJWK | None:
    """The signing key a JWK Set member describes, or None if it is not one this service can use:
    not a JSON object, another use, type, curve or algorithm, a member of an odd type, an RSA key
    under 2048 bits. One odd member must not take the set's other keys down with it."""
    import jwt

    if not isinstance(member, dict) or not isinstance(member.get("kid", ""), str) or member.get("use", "sig") != "sig":
        return None
    kty = member.get("kty")
    algorithm = member.get("alg", DEFAULT_ALGORITHM.get(kty) if isinstance(kty, str) else None)
    if algorithm not in ALGORITHMS or (algorithm == "ES256" and member.get("crv") != "P-256"):
        return None
    try:
        key = jwt.PyJWK(member, algorithm)  # refuses a kty that is not the algorithm's
    except (jwt.PyJWTError, ValueError, TypeError, LookupError, OverflowError):
        return None
    if kty == "RSA" and key.key.key_size < MIN_RSA_BITS:
        return None
    return key


def _usable_keys(jwks: Any) -> dict[str, PyJWK]:
    """The keys of a JWK Set this service verifies with, by key id; the members left out are logged
    (a misconfigured issuer is ours to see, and a JWK holds no secret: only the count is)."""
    members = jwks.get("keys") if isinstance(jwks, dict) else None
    members = members if isinstance(members, list) else []
    keys = {key.key_id or "": key for key in map(_usable_key, members) if key is not None}
    if len(keys) < len(members) or not keys:
        logs.warning(
            "JWK Set members left out: not signing keys this service can use", left_out=len(members) - len(keys)
        )
    return keys


class RemoteKeySet:
    """The JWK Set at JWKS_URL, kept ``lifespan`` seconds; a key id it lacks fetches it again (the
    issuer rotated its keys), but not more often than every ``refetch_after`` seconds, so tokens
    naming made-up key ids cannot flood the issuer. A fetch takes ``deadline`` seconds at most in
    all (a slow issuer cannot hold the function) and ``max_bytes`` of body at most."""

    lifespan, refetch_after, deadline, max_bytes = 3600.0, 30.0, 5.0, 256 * 1024  # a JWK Set is a few KB

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = float("-inf")

    def get(self, kid: str) -> PyJWK | None:
        age = time.monotonic() - self._fetched_at
        if age >= self.lifespan or (kid not in self._keys and age >= self.refetch_after):
            self._fetched_at = time.monotonic()  # a failed fetch waits like a successful one
            # The keys already known are kept when the fetch fails or brings none we can use: the
            # issuer being down or misconfigured must not log everybody out.
            try:
                self._keys = _usable_keys(self._fetch()) or self._keys
            # unreachable, too slow, too large, not JSON, not HTTP: the issuer's answer
            except Exception:  # noqa: BLE001 - any failure of the fetch keeps the keys known
                logs.error("JWKS_URL could not be read; the keys known are kept", exc_info=True)
        return self._keys.get(kid)

    def _fetch(self) -> Any:
        """The JSON at the URL, read in a worker thread joined for ``deadline`` seconds: urllib's
        timeout bounds each socket read, not the whole (an issuer trickling bytes would hold us)."""
        outcome: dict[str, Any] = {}

        def read() -> None:
            try:
                outcome["jwks"] = json.loads(self._read(time.monotonic() + self.deadline))
            except Exception as exc:  # noqa: BLE001 - any failure, handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=read, name="jwks-fetch", daemon=True)
        worker.start()
        worker.join(self.deadline)
        if worker.is_alive():
            raise TimeoutError(f"JWKS_URL did not answer within {self.deadline} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["jwks"]

    def _read(self, deadline: float) -> bytes:
        from urllib.request import urlopen  # only where keys are fetched: http.client is heavy to import

        body = bytearray()
        with urlopen(self.url, timeout=self.deadline) as response:  # noqa: S310 - the configured https URL
            while chunk := response.read1(64 * 1024):  # one socket read at a time, to watch the clock
                body += chunk
                if len(body) > self.max_bytes:
                    raise ValueError(f"the JWK Set at JWKS_URL is over {self.max_bytes} bytes")
                if time.monotonic() > deadline:  # the caller has given up: stop reading
                    raise TimeoutError("JWKS_URL is too slow")
        return bytes(body)


@lru_cache(maxsize=8)
def _remote_keys(jwks_url: str) -> RemoteKeySet:
    return RemoteKeySet(jwks_url)


@lru_cache(maxsize=8)
def _inline_keys(jwks_json: str) -> dict[str, PyJWK]:
    return _usable_keys(json.loads(jwks_json) if jwks_json else {})


def _signing_keys() -> RemoteKeySet | dict[str, PyJWK]:
    """Our configuration: a JWKS_JSON that is not JSON fails here, as our error, not the caller's."""
    return _remote_keys(settings().jwks_url) if settings().jwks_url else _inline_keys(settings().jwks_json)


# Claims are checked here (_check_registered_claims), once: PyJWT checks the signature only.
SIGNATURE_ONLY: Options = {
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
    "verify_iss": False,
    "verify_aud": False,
}


def verify(token: str) -> Principal:
    import jwt  # and cryptography with it: on the first request that has a token, not at cold start

    keys = _signing_keys()
    try:
        key = keys.get(jwt.get_unverified_header(token).get("kid", ""))  # PyJWT refuses a kid not a string
        if key is None:
            raise _bad_token("The token is signed by an unknown key.")
        claims = jwt.decode(token, key, algorithms=[key.algorithm_name], options=SIGNATURE_ONLY)
        _check_registered_claims(claims)
        return _principal(claims)
    except (jwt.PyJWTError, ValueError, TypeError, LookupError, OverflowError, RecursionError) as exc:
        # Whatever a token's content makes its reading raise is the token's fault: 401. The type
        # is logged, never the message (it may quote the token).
        logs.info("bearer token refused", reason=type(exc).__name__)
        raise _bad_token("The token is invalid.") from None


REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub", "role")
LEEWAY_SECONDS = 30  # clock skew between the issuer and us
LATEST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z: past it, no date (nor float) holds a time


def _is_timestamp(value: Any) -> bool:
    """A JSON number of seconds a date can hold: not a boolean, NaN, an infinity or 10**400."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= LATEST_TIMESTAMP


def _check_registered_claims(claims: dict[str, Any]) -> None:
    """RFC 7519 § 4.1: issued by an issuer we trust, for this API, within its validity."""
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise _bad_token(f"The token lacks its '{name}' claim.")
    times = {name: claims[name] for name in ("exp", "iat", "nbf") if name in claims}
    if not all(map(_is_timestamp, times.values())):
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


# The claims read for each role (docs/api.md § Tokens), all strings; ``name`` is optional for every role.
ROLE_CLAIMS = {
    "patient": ("ins",),
    "professional": ("rpps", "profession"),
    "app": ("client_id", "patient_id", "scope"),
}
OPTIONAL_CLAIMS = ("name",)
# Optional claims that are booleans: ``regulation`` (a professional regulating for the SAMU).
OPTIONAL_FLAGS = ("regulation",)
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
    for name in OPTIONAL_FLAGS:
        if name in claims and not isinstance(claims[name], bool):
            raise _bad_token(f"The token's '{name}' claim must be true or false.")


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
