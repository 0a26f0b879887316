"""core/jws.py held to PyJWT's answers: what PyJWT signs verifies here, what it refuses is refused.

PyJWT stays a test (and devstack) dependency for this: it is the reference the hand-written
verification is checked against, on fixed tamperings and on random ones (hypothesis).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings, strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from chalicelib.core import jws
from tests.jwks_issuer import JwksIssuer

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
PRIVATE = {"RS256": RSA_KEY, "PS256": RSA_KEY, "ES256": EC_KEY}


def _jwk(algorithm: str, private_key=None, **members) -> dict:
    private_key = private_key or PRIVATE[algorithm]
    codec = ECAlgorithm if algorithm == "ES256" else RSAAlgorithm
    return {**json.loads(codec.to_jwk(private_key.public_key())), "kid": algorithm, "alg": algorithm, "use": "sig", **members}


KEYS = jws.key_set({"keys": [_jwk(algorithm) for algorithm in jws.ALGORITHMS]})
CLAIMS = {"iss": "https://idp.example", "aud": "api", "sub": "someone", "exp": 2_000_000_000}


def _sign(algorithm: str, claims: dict | None = None, **headers) -> str:
    return jwt.encode(claims or CLAIMS, PRIVATE[algorithm], algorithm=algorithm, headers={"kid": algorithm, **headers})


def _ours(token: str, keys: dict = KEYS) -> dict | None:
    """The payload if core/jws.py accepts the token, else None."""
    try:
        parsed = jws.parse(token)
        key = keys.get(parsed.header.get("kid"))
        if key is None:
            return None
        key.verify(parsed)
    except jws.InvalidToken:
        return None
    return parsed.payload


def _pyjwt(token: str) -> dict | None:
    """The payload if PyJWT accepts the token with the same keys and algorithms, else None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in jws.ALGORITHMS:
            return None
        return jwt.decode(token, PRIVATE[kid].public_key(), algorithms=[kid], options={"verify_signature": True, "verify_exp": False, "verify_aud": False, "verify_iss": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize("algorithm", jws.ALGORITHMS)
def test_what_pyjwt_signs_verifies_with_its_claims(algorithm):
    assert _ours(_sign(algorithm)) == CLAIMS


@pytest.mark.parametrize("algorithm", jws.ALGORITHMS)
def test_a_changed_payload_or_header_is_refused(algorithm):
    header, payload, signature = _sign(algorithm).split(".")
    forged_payload = _b64(json.dumps({**CLAIMS, "sub": "someone-else"}).encode())
    forged_header = _b64(json.dumps({"alg": algorithm, "kid": algorithm, "typ": "JWT", "x": 1}).encode())
    assert _ours(f"{header}.{forged_payload}.{signature}") is None
    assert _ours(f"{forged_header}.{payload}.{signature}") is None


@pytest.mark.parametrize("algorithm", jws.ALGORITHMS)
def test_a_signature_by_another_key_is_refused(algorithm):
    other = OTHER_RSA_KEY if algorithm != "ES256" else ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(CLAIMS, other, algorithm=algorithm, headers={"kid": algorithm})
    assert _ours(forged) is None


def test_the_algorithm_must_be_the_keys():
    # PS256 signed with the RS256 key's private half, under the RS256 kid: the key is for RS256 only.
    forged = jwt.encode(CLAIMS, RSA_KEY, algorithm="PS256", headers={"kid": "RS256"})
    assert _ours(forged) is None


def test_alg_none_and_hmac_with_the_public_key_are_refused():
    header = _b64(json.dumps({"alg": "none", "kid": "RS256"}).encode())
    payload = _b64(json.dumps(CLAIMS).encode())
    assert _ours(f"{header}.{payload}.") is None
    public_pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64(json.dumps({"alg": "HS256", "kid": "RS256"}).encode())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert _ours(f"{header}.{payload}.{_b64(mac)}") is None


def test_an_es256_signature_must_be_raw_r_and_s():
    header, payload, _ = _sign("ES256").split(".")
    der = EC_KEY.sign(f"{header}.{payload}".encode(), ec.ECDSA(jws.hashes.SHA256()))  # valid, but DER
    assert _ours(f"{header}.{payload}.{_b64(der)}") is None


def test_a_critical_extension_is_refused():
    assert _ours(_sign("RS256", crit=["b64"], b64=False)) is None


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
        "e30.e30.AB",  # not canonical: "AB" has unused bits set ("AA" spells the same byte)
        "e30.é.AA",
        _b64(b'{"alg":"RS256","kid":"RS256"}') + "." + _b64(b'{"exp":NaN}') + ".AA",
    ],
)
def test_what_is_not_a_compact_jws_is_malformed(token):
    with pytest.raises(jws.InvalidToken, match="malformed"):
        jws.parse(token)


@settings(max_examples=150, deadline=None)
@given(algorithm=st.sampled_from(jws.ALGORITHMS), position=st.integers(min_value=0), replacement=st.sampled_from("AQRSgw_-.xyz0="))
def test_any_one_character_changed_is_judged_as_pyjwt_judges_it(algorithm, position, replacement):
    token = _sign(algorithm)
    position %= len(token)
    tampered = token[:position] + replacement + token[position + 1 :]
    # A last character changed in its unused bits only spells the same bytes: both refuse it.
    assert _ours(tampered) == _pyjwt(tampered)


@pytest.mark.parametrize("algorithm", jws.ALGORITHMS)
def test_every_spelling_of_a_signatures_last_character_is_judged_as_pyjwt_judges_it(algorithm):
    """Where base64url has unused bits: only the canonical spelling is the token."""
    token = _sign(algorithm)
    for character in sorted(jws.BASE64URL):
        tampered = token[:-1] + character
        assert (_ours(tampered) is None) == (_pyjwt(tampered) is None) == (tampered != token)


@settings(max_examples=50, deadline=None)
@given(algorithm=st.sampled_from(jws.ALGORITHMS), claims=st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none()), max_size=6))
def test_any_claims_pyjwt_signs_come_back_unchanged(algorithm, claims):
    assert _ours(_sign(algorithm, claims or {"sub": "x"})) == (claims or {"sub": "x"})


def test_keys_this_service_cannot_use_are_left_out_of_the_set():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    p384 = ec.generate_private_key(ec.SECP384R1())
    off_curve = {**_jwk("ES256"), "kid": "off", "y": _b64((1).to_bytes(32, "big"))}
    unusable = [
        _jwk("RS256", small, kid="small"),
        _jwk("RS256", kid="enc", use="enc"),
        {**json.loads(ECAlgorithm.to_jwk(p384.public_key())), "kid": "p384"},
        _jwk("RS256", kid="hs", alg="HS256"),
        {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
        off_curve,
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        "not-a-jwk",
    ]
    keys = jws.key_set({"keys": [*unusable, _jwk("RS256", kid="good")]})
    assert list(keys) == ["good"]
    assert jws.key_set({"keys": "nope"}) == {} and jws.key_set([]) == {}


def test_a_key_without_alg_is_for_its_types_default_algorithm():
    keys = jws.key_set({"keys": [{k: v for k, v in _jwk("RS256").items() if k != "alg"}]})
    assert keys["RS256"].algorithm == "RS256"


@pytest.fixture
def issuer():
    server = JwksIssuer({"keys": [_jwk("RS256")]})
    yield server
    server.close()


def test_remote_keys_are_fetched_once_and_kept(issuer):
    keys = jws.RemoteKeySet(issuer.url)
    assert keys.get("RS256") is not None and keys.get("RS256") is not None
    assert issuer.requests == 1


def test_a_rotated_key_is_fetched_but_made_up_key_ids_do_not_flood_the_issuer(issuer):
    keys = jws.RemoteKeySet(issuer.url, refetch_after=0.2)
    assert keys.get("RS256") is not None
    issuer.jwks = {"keys": [_jwk("RS256"), _jwk("ES256")]}  # the issuer adds a key
    assert keys.get("ES256") is None  # asked right after the last fetch: not fetched again
    for _ in range(20):
        keys.get("made-up")
    assert issuer.requests == 1
    time.sleep(0.25)
    assert keys.get("ES256") is not None and issuer.requests == 2


def test_the_issuer_being_down_keeps_the_keys_known(issuer):
    keys = jws.RemoteKeySet(issuer.url, lifespan=0.1, refetch_after=0.1)
    assert keys.get("RS256") is not None
    issuer.down = True
    time.sleep(0.15)
    assert keys.get("RS256") is not None and issuer.requests == 2
