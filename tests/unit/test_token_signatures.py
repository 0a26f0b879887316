"""core/security/auth.py's verifier on tokens and keys of every kind: what the issuer signs verifies, every
tampering (payload, header, algorithm, key, signature, any one character) is refused, and whatever
a token or a JWK Set holds, the answer is a Principal or Unauthenticated, nothing else.

PyJWT signs the tokens here and checks their signatures in core/security/auth.py: these tests hold the
choices made around it (the algorithms, the keys it may use, the JWKS_URL cache).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from chalicelib.core.errors import Unauthenticated
from chalicelib.core.security import auth
from tests.examples import examples
from tests.jwks_issuer import JwksIssuer

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
PRIVATE: dict[str, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] = {
    "RS256": RSA_KEY,
    "PS256": RSA_KEY,
    "ES256": EC_KEY,
}
ISSUER, AUDIENCE = "https://idp.example", "api"
CLAIMS = {
    "iss": ISSUER,
    "aud": AUDIENCE,
    "sub": "someone",
    "role": "enrolment_agent",
    "iat": 1_700_000_000,
    "exp": 2_000_000_000,
}
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _jwk(algorithm: str, private_key=None, **members) -> dict:
    private_key = private_key or PRIVATE[algorithm]
    codec = ECAlgorithm if algorithm == "ES256" else RSAAlgorithm
    return {
        **json.loads(codec.to_jwk(private_key.public_key())),
        "kid": algorithm,
        "alg": algorithm,
        "use": "sig",
        **members,
    }


@pytest.fixture(scope="module", autouse=True)
def issuer_keys():
    """The verifier trusts ISSUER, whose JWK Set holds one key per algorithm (kid = algorithm)."""
    from chalicelib.core.settings import settings as service_settings

    jwks = {"keys": [_jwk(algorithm) for algorithm in auth.ALGORITHMS]}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "JWKS_JSON": json.dumps(jwks),
            "JWKS_URL": "",
            "TOKEN_ISSUERS": ISSUER,
            "TOKEN_AUDIENCE": AUDIENCE,
        }.items():
            patch.setenv(name, value)
        service_settings.cache_clear()
        yield
    service_settings.cache_clear()


def _sign(algorithm: str, claims: dict | None = None, **headers) -> str:
    return jwt.encode(claims or CLAIMS, PRIVATE[algorithm], algorithm=algorithm, headers={"kid": algorithm, **headers})


def _verified(token: str) -> dict | None:
    """The claims if the verifier accepts the token, None if it answers 401; anything else fails."""
    try:
        return auth.verify(token).claims
    except Unauthenticated:
        return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize("algorithm", auth.ALGORITHMS)
def test_what_the_issuer_signs_verifies_with_its_claims(algorithm):
    assert _verified(_sign(algorithm)) == CLAIMS


@pytest.mark.parametrize("algorithm", auth.ALGORITHMS)
def test_a_changed_payload_or_header_is_refused(algorithm):
    header, payload, signature = _sign(algorithm).split(".")
    forged_payload = _b64(json.dumps({**CLAIMS, "sub": "someone-else"}).encode())
    forged_header = _b64(json.dumps({"alg": algorithm, "kid": algorithm, "typ": "JWT", "x": 1}).encode())
    assert _verified(f"{header}.{forged_payload}.{signature}") is None
    assert _verified(f"{forged_header}.{payload}.{signature}") is None


@pytest.mark.parametrize("algorithm", auth.ALGORITHMS)
def test_a_signature_by_another_key_is_refused(algorithm):
    other = OTHER_RSA_KEY if algorithm != "ES256" else ec.generate_private_key(ec.SECP256R1())
    assert _verified(jwt.encode(CLAIMS, other, algorithm=algorithm, headers={"kid": algorithm})) is None


def test_the_algorithm_must_be_the_keys():
    # PS256 signed with the RS256 key's private half, under the RS256 kid: the key is for RS256 only.
    assert _verified(jwt.encode(CLAIMS, RSA_KEY, algorithm="PS256", headers={"kid": "RS256"})) is None


def test_alg_none_and_hmac_with_the_public_key_are_refused():
    header = _b64(json.dumps({"alg": "none", "kid": "RS256"}).encode())
    payload = _b64(json.dumps(CLAIMS).encode())
    assert _verified(f"{header}.{payload}.") is None
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": "RS256"}).encode())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert _verified(f"{header}.{payload}.{_b64(mac)}") is None


def test_an_es256_signature_must_be_raw_r_and_s():
    header, payload, _ = _sign("ES256").split(".")
    der = EC_KEY.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))  # valid, but DER
    assert _verified(f"{header}.{payload}.{_b64(der)}") is None


def test_a_critical_extension_is_refused():
    assert _verified(_sign("RS256", crit=["exp"])) is None
    assert _verified(_sign("RS256", crit=["b64"], b64=False)) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "W10.e30.AA",  # header is a JSON array
        "e30.bnVsbA.AA",  # payload is null
        "e30.e30.A=A",  # a padding character
        "e30.e30.A+A/",  # base64, not base64url
        "e30.é.AA",
        _b64(b'{"alg":"RS256","kid":"RS256"}') + "." + _b64(b'{"exp":NaN}') + ".AA",
        _b64(b'{"alg":"RS256","kid":' + b"[" * 5000 + b"]" * 5000 + b"}") + ".e30.AA",
        _b64(b'{"alg":"RS256","kid":{"a":1}}') + ".e30.AA",
    ],
)
def test_what_is_not_a_compact_jws_is_refused(token):
    assert _verified(token) is None


@settings(max_examples=examples(150), deadline=None)
@given(
    algorithm=st.sampled_from(auth.ALGORITHMS),
    position=st.integers(min_value=0),
    replacement=st.sampled_from("AQRSgw_-.xyz0=é{"),
)
def test_any_one_character_changed_is_refused(algorithm, position, replacement):
    token = _sign(algorithm)
    position %= len(token)
    tampered = token[:position] + replacement + token[position + 1 :]
    assert _verified(tampered) == (CLAIMS if tampered == token else None)


@pytest.mark.parametrize("algorithm", auth.ALGORITHMS)
def test_only_the_canonical_spelling_of_a_signatures_last_character_verifies(algorithm):
    """Where base64url has unused bits, other spellings decode to the same bytes: one token, one spelling."""
    token = _sign(algorithm)
    for character in BASE64URL:
        tampered = token[:-1] + character
        assert (_verified(tampered) is None) == (tampered != token), character


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=examples(100), deadline=None)
@given(
    algorithm=st.sampled_from(auth.ALGORITHMS),
    overrides=st.dictionaries(
        st.sampled_from([*CLAIMS, "nbf", "ins", "rpps", "profession", "scope", "name", "x"]), JSON, max_size=4
    ),
    role=st.sampled_from(["patient", "professional", "app", "agent"]),
)
def test_any_claims_signed_by_the_issuer_end_in_a_principal_or_a_401(algorithm, overrides, role):
    claims = {**CLAIMS, "role": role, **overrides}
    payload = json.dumps(claims).encode()  # NaN and Infinity spelled as Python does
    token = jwt.api_jws.PyJWS().encode(payload, PRIVATE[algorithm], algorithm=algorithm, headers={"kid": algorithm})
    _verified(token)  # raises if the answer is neither


def test_keys_this_service_cannot_use_are_left_out_of_the_set():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - too small on purpose
    p384 = ec.generate_private_key(ec.SECP384R1())
    unusable = [
        _jwk("RS256", small, kid="small"),
        _jwk("RS256", kid="enc", use="enc"),
        {**json.loads(ECAlgorithm.to_jwk(p384.public_key())), "kid": "p384"},
        _jwk("ES256", kid="p384-as-es256", crv="P-384"),
        _jwk("RS256", kid="hs", alg="HS256"),
        _jwk("RS256", kid="rs512", alg="RS512"),
        _jwk("RS256", kid="as-ec", kty="EC"),
        {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
        {**_jwk("ES256"), "kid": "off-curve", "y": _b64((1).to_bytes(32, "big"))},
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        _jwk("RS256", kid="kty-number", kty=1),
        _jwk("RS256", kid="kty-list", kty=["RSA"]),
        _jwk("RS256", kid="n-list", n=["AQAB"]),
        _jwk("RS256", kid="alg-list", alg=["RS256"]),
        _jwk("RS256", kid={"a": 1}),
        "not-a-jwk",
        None,
    ]
    assert list(auth._usable_keys({"keys": [*unusable, _jwk("RS256", kid="good")]})) == ["good"]
    odds: list[Any] = [{"keys": "nope"}, {"keys": {"a": 1}}, {"keys": None}, [], "x", None]
    for odd in odds:
        assert auth._usable_keys(odd) == {}


def test_a_key_without_alg_is_for_its_types_default_algorithm():
    for algorithm in ("RS256", "ES256"):
        (key,) = auth._usable_keys({"keys": [{k: v for k, v in _jwk(algorithm).items() if k != "alg"}]}).values()
        assert key.algorithm_name == algorithm


# ---- Keys at JWKS_URL -------------------------------------------------------------------------


@pytest.fixture
def issuer():
    server = JwksIssuer({"keys": [_jwk("RS256")]})
    yield server
    server.close()


def test_remote_keys_are_fetched_once_and_kept(issuer):
    keys = auth.RemoteKeySet(issuer.url)
    assert keys.get("RS256") is not None and keys.get("RS256") is not None
    assert issuer.requests == 1


def test_a_rotated_key_is_fetched_but_made_up_key_ids_do_not_flood_the_issuer(issuer):
    keys = auth.RemoteKeySet(issuer.url)
    keys.refetch_after = 0.2
    assert keys.get("RS256") is not None
    issuer.jwks = {"keys": [_jwk("RS256"), _jwk("ES256")]}  # the issuer adds a key
    assert keys.get("ES256") is None  # asked right after the last fetch: not fetched again
    for _ in range(20):
        keys.get("made-up")
    assert issuer.requests == 1
    time.sleep(0.25)
    assert keys.get("ES256") is not None and issuer.requests == 2


@pytest.mark.parametrize("failure", ["down", "slow", "huge", "no-usable-key"])
def test_the_issuer_failing_keeps_the_keys_known(issuer, failure):
    keys = auth.RemoteKeySet(issuer.url)
    keys.lifespan = keys.refetch_after = 0.1
    keys.deadline = 0.5
    assert keys.get("RS256") is not None
    issuer.down = failure == "down"
    issuer.silence = 1.0 if failure == "slow" else 0.0
    issuer.jwks = {**issuer.jwks, "padding": "x" * (keys.max_bytes + 1)} if failure == "huge" else issuer.jwks
    issuer.jwks = {"keys": [_jwk("RS256", kid="hs", alg="HS256")]} if failure == "no-usable-key" else issuer.jwks
    time.sleep(0.15)
    assert keys.get("RS256") is not None and issuer.requests == 2
