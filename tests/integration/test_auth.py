"""Token verification through the API: signature, issuer, audience, expiry, pinned algorithm."""

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack import keys
from tests.jwks_issuer import JwksIssuer

CAMPAIGNS = "/v1/enrolment/campaigns"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(**overrides) -> dict:
    now = int(time.time())
    return {
        "iss": keys.ISSUER,
        "aud": keys.AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "sub": "agent-1",
        "role": "enrolment_agent",
        **overrides,
    }


def _status(api, token):
    response = api.post(CAMPAIGNS, {"name": "x"}, token=token)
    if response.status_code == 401:
        assert response.json_body["error"]["code"] == "unauthenticated"
    return response.status_code


def test_valid_token_is_accepted(api, token):
    assert _status(api, token("enrolment_agent")) == 201


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 120},
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
    ],
    ids=["expired", "wrong-audience", "wrong-issuer"],
)
def test_bad_claims_are_rejected(api, token, claims):
    assert _status(api, token("enrolment_agent", **claims)) == 401


def test_missing_required_claim_is_rejected(api, key_file):
    claims = _claims()
    del claims["exp"]
    forged = jwt.encode(claims, keys._private_key(key_file), algorithm="RS256", headers={"kid": keys.KEY_ID})
    assert _status(api, forged) == 401


def test_foreign_signature_is_rejected(api):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(), other, algorithm="RS256", headers={"kid": keys.KEY_ID})
    assert _status(api, forged) == 401


def test_alg_none_is_rejected(api):
    forged = f"{_b64({'alg': 'none', 'kid': keys.KEY_ID})}.{_b64(_claims())}."
    assert _status(api, forged) == 401


def test_hmac_with_the_public_key_is_rejected(api, key_file):
    from cryptography.hazmat.primitives import serialization

    public_pem = (
        keys._private_key(key_file)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64({"alg": "HS256", "kid": keys.KEY_ID, "typ": "JWT"})
    payload = _b64(_claims())
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert _status(api, f"{header}.{payload}.{signature.decode().rstrip('=')}") == 401


@pytest.mark.parametrize("header", ["", "Basic abc", "Bearer", "Bearer not-a-jwt"])
def test_malformed_authorization_header(api, header):
    response = api.post(CAMPAIGNS, {"name": "x"}, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "unauthenticated"


def test_patient_token_needs_a_valid_ins(api, token):
    assert api.get("/v1/me", token=token("patient", ins="123")).status_code == 401


@pytest.mark.parametrize("role", ["insurer", "mutual_insurer", "employer", "somebody"])
def test_unknown_roles_are_authenticated_but_allowed_nothing(api, token, role):
    assert api.get("/v1/me", token=token(role)).status_code == 403
    assert api.post(CAMPAIGNS, {"name": "x"}, token=token(role)).status_code == 403


def test_keys_published_at_a_jwks_url_are_fetched_and_kept(api, key_file, token, monkeypatch):
    """As deployed (JWKS_URL): the function fetches the issuer's keys once, not per request."""
    from chalicelib.core.settings import settings

    issuer = JwksIssuer(json.loads(keys.jwks(key_file)))
    try:
        monkeypatch.setenv("JWKS_URL", issuer.url)
        monkeypatch.delenv("JWKS_JSON")
        settings.cache_clear()
        assert _status(api, token("enrolment_agent")) == 201
        assert _status(api, token("enrolment_agent")) == 201
        forged = jwt.encode(_claims(), keys._private_key(key_file), algorithm="RS256", headers={"kid": "rotated-away"})
        assert _status(api, forged) == 401
        assert issuer.requests == 1  # an unknown key id just after the fetch does not fetch again
    finally:
        issuer.close()
        settings.cache_clear()


# ---- Hostile tokens and keys: 401 every time, never a 500 -------------------------------------

ME = "/v1/me"


def _signed(key_file, payload: bytes) -> str:
    """A token the devstack issuer really signed, whatever its payload's bytes (JSON or not)."""
    return jwt.api_jws.PyJWS().encode(
        payload, keys._private_key(key_file), algorithm="RS256", headers={"kid": keys.KEY_ID}
    )


def _refused(response) -> bool:
    return response.status_code == 401 and response.json_body["error"]["code"] == "unauthenticated"


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_token_of_deeply_nested_json_is_401(api, key_file):
    claims = json.dumps(_claims(role="patient", ins=keys.ROLE_DEFAULTS["patient"]["ins"]))
    for depth in (1_000, 100_000):
        header = (
            base64.urlsafe_b64encode(f'{{"alg":"RS256","kid":"{keys.KEY_ID}","x":{_deep(depth)}}}'.encode())
            .decode()
            .rstrip("=")
        )
        assert _refused(api.get(ME, token=f"{header}.{_b64(_claims())}.AAAA")), depth
        deep_payload = claims[:-1] + f', "x": {_deep(depth)}}}'
        assert _refused(api.get(ME, token=_signed(key_file, deep_payload.encode()))), depth
        assert _refused(api.get(ME, token=_signed(key_file, _deep(depth).encode()))), depth


@pytest.mark.parametrize(
    "spelling", ["1" + "0" * 400, "-1" + "0" * 400, "1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1" + "0" * 5000]
)
def test_token_times_no_date_can_hold_are_401(api, key_file, spelling):
    now = int(time.time())
    for name in ("exp", "iat", "nbf"):
        times = {"iat": now, "exp": now + 600, "nbf": now}
        claims = json.dumps(_claims(role="patient", ins=keys.ROLE_DEFAULTS["patient"]["ins"], **times))
        payload = claims.replace(f'"{name}": {times[name]}', f'"{name}": {spelling}', 1)
        assert payload != claims
        assert _refused(api.get(ME, token=_signed(key_file, payload.encode()))), name


WRONG_TYPES: tuple[Any, ...] = ([], ["x"], {}, {"x": 1}, True, False, None, 1.5, 0)
# Every claim read, with the role whose tokens carry it.
CLAIMS_BY_ROLE = {
    "patient": ("iss", "aud", "sub", "role", "exp", "iat", "nbf", "ins", "name"),
    "professional": ("rpps", "profession"),
    "app": ("client_id", "patient_id", "scope"),
}


def _still_valid(name: str, value) -> bool:
    """A number is a time: 1.5 s after 1970 is a fine (long past) issue or start time."""
    return name in ("iat", "nbf") and type(value) in (int, float)


def test_a_claim_of_the_wrong_type_is_401(api, key_file):
    for role, names in CLAIMS_BY_ROLE.items():
        valid = _claims(role=role, **keys.ROLE_DEFAULTS[role])
        assert not _refused(api.get(ME, token=_signed(key_file, json.dumps(valid).encode()))), role
        for name in names:
            for value in WRONG_TYPES:
                if not _still_valid(name, value):
                    token = _signed(key_file, json.dumps({**valid, name: value}).encode())
                    assert _refused(api.get(ME, token=token)), (role, name, value)


def _with_jwks(monkeypatch, jwks: dict) -> None:
    from chalicelib.core.settings import settings

    monkeypatch.setenv("JWKS_JSON", json.dumps(jwks))
    settings.cache_clear()


def test_odd_members_of_the_jwks_leave_its_good_key_working(api, key_file, token, monkeypatch):
    (good,) = json.loads(keys.jwks(key_file))["keys"]
    odd = [
        {**good, "kid": "kty-number", "kty": 1},
        {**good, "kid": "kty-list", "kty": ["RSA"]},
        {**good, "kid": "kty-object", "kty": {"RSA": 1}},
        {**good, "kid": "n-list", "n": [good["n"]]},
        {**good, "kid": "e-number", "e": 65537},
        {**good, "kid": "alg-list", "alg": ["RS256"]},
        {**good, "kid": "alg-object", "alg": {}},
        {**good, "kid": "use-list", "use": ["sig"]},
        {**good, "kid": {"id": keys.KEY_ID}},
        {**good, "kid": ["devstack-1"]},
        {"kty": "EC", "kid": "crv-list", "crv": ["P-256"], "x": "AA", "y": "AA"},
        "not-a-jwk",
        ["not", "a", "jwk"],
        None,
        7,
    ]
    _with_jwks(monkeypatch, {"keys": [*odd, good]})
    assert api.get(ME, token=token("patient")).status_code == 404  # authenticated: never invited
    for kid in ("kty-number", "n-list", "alg-list", "e-number"):
        forged = jwt.encode(_claims(), keys._private_key(key_file), algorithm="RS256", headers={"kid": kid})
        assert _refused(api.get(ME, token=forged)), kid


@pytest.mark.parametrize("jwks", [{"keys": "nope"}, {"keys": {"a": 1}}, {"keys": None}, {"keys": []}, {}, ["keys"], 42])
def test_a_jwks_of_an_odd_shape_is_401_not_500(api, token, monkeypatch, jwks):
    _with_jwks(monkeypatch, jwks)
    assert _refused(api.get(ME, token=token("patient")))


@pytest.fixture
def remote(key_file, monkeypatch):
    """The API reading its keys from a JWKS_URL, as deployed; fetches bounded to 0.5 s for the test."""
    from chalicelib.core.security import auth
    from chalicelib.core.settings import settings

    issuer = JwksIssuer(json.loads(keys.jwks(key_file)))
    monkeypatch.setenv("JWKS_URL", issuer.url)
    monkeypatch.delenv("JWKS_JSON")
    monkeypatch.setattr(auth.RemoteKeySet, "deadline", 0.5)
    settings.cache_clear()
    auth._remote_keys.cache_clear()
    yield issuer
    issuer.close()
    settings.cache_clear()
    auth._remote_keys.cache_clear()


def test_a_huge_jwks_body_is_not_read(api, token, remote):
    remote.jwks = {**remote.jwks, "padding": "x" * 2_000_000}
    assert _refused(api.get(ME, token=token("patient")))


@pytest.mark.parametrize("slowness", [{"silence": 10.0}, {"trickle": 0.3}], ids=["silent", "trickling"])
def test_a_slow_jwks_endpoint_is_given_up_on_at_the_deadline(api, token, remote, slowness):
    for name, value in slowness.items():
        setattr(remote, name, value)
    started = time.monotonic()
    assert _refused(api.get(ME, token=token("patient")))
    assert time.monotonic() - started < 4  # the deadline (0.5 s), not the issuer's pace (~10 s)
