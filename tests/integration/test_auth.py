"""Token verification through the API: signature, issuer, audience, expiry, pinned algorithm."""

import base64
import json
import time

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
    return {"iss": keys.ISSUER, "aud": keys.AUDIENCE, "iat": now, "exp": now + 600, "sub": "agent-1", "role": "enrolment_agent", **overrides}


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

    public_pem = keys._private_key(key_file).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
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
