"""The devstack's own token issuer: an RSA key kept in .devstack/, its JWKS, and minted tokens.

Only for the local stack and tests: the deployed API trusts the real identity providers' JWKS.
"""

from __future__ import annotations

import functools
import json
import secrets
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEY_FILE = ROOT / ".devstack" / "signing-key.pem"
ISSUER = "http://127.0.0.1:8000/devstack"
AUDIENCE = "mon-espace-sante-api"
KEY_ID = "devstack-1"

# Sample identities so a bare `token --role X` works; every claim can be overridden.
ROLE_DEFAULTS: dict[str, dict[str, Any]] = {
    "patient": {"ins": "255082A12345646"},
    "professional": {"rpps": "10000000009", "profession": "medecin", "name": "Dr Claire Martin"},
    "app": {"client_id": "app_demo", "patient_id": "pat_demo", "scope": "measurements:write"},
}


@functools.lru_cache(maxsize=4)
def _loaded(path: Path, modified_ns: int) -> Any:
    """The key read from its file once per version of the file (reading checks the RSA key: tens
    of milliseconds, paid by every token the tests mint otherwise)."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _private_key(path: Path = KEY_FILE) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if path.exists():
        return _loaded(path, path.stat().st_mtime_ns)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return key


def jwks(path: Path = KEY_FILE) -> str:
    from jwt.algorithms import RSAAlgorithm

    public = json.loads(RSAAlgorithm.to_jwk(_private_key(path).public_key()))
    return json.dumps({"keys": [{**public, "kid": KEY_ID, "alg": "RS256", "use": "sig"}]})


def mint(role: str, claims: dict[str, Any] | None = None, path: Path = KEY_FILE) -> str:
    import jwt

    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "sub": f"{role}-{secrets.token_hex(4)}",
        "role": role,
        **ROLE_DEFAULTS.get(role, {}),
        **(claims or {}),
    }
    return jwt.encode(payload, _private_key(path), algorithm="RS256", headers={"kid": KEY_ID})


def api_environment(path: Path = KEY_FILE) -> dict[str, str]:
    """What the API needs to trust this issuer."""
    return {"JWKS_JSON": jwks(path), "TOKEN_ISSUERS": ISSUER, "TOKEN_AUDIENCE": AUDIENCE}
