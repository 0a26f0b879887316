"""The patient portal's deployment (portal/): its per-stage configuration, its security headers,
its CloudFormation resources (infra/portal.yaml) and the static site built for a stage.

The security headers are defined once, here: the local server (devstack/portal_server.py) sends
``security_headers(config)`` and CloudFront's response headers policy is built from the same
dictionary, so the CSP the browser tests run under is the one deployed.

A stage's configuration is portal/config/<stage>.json: ``api`` (the API's base URL), ``issuer``
(the OpenID Connect provider, discovered at ``<issuer>/.well-known/openid-configuration``) and
``client_id``. The site of a stage is portal/ without config/, plus that file as /config.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.render import INFRA_DIR, load_template

PORTAL_DIR = INFRA_DIR.parent / "portal"
CONFIG_DIR = PORTAL_DIR / "config"
TEMPLATE = INFRA_DIR / "portal.yaml"
HSTS_SECONDS = 63072000  # two years, as the HSTS preload list asks
# Headers without a field of their own in CloudFront's SecurityHeadersConfig.
CUSTOM_HEADERS = {
    "Permissions-Policy": "geolocation=(), microphone=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def stage_config(stage: str) -> dict[str, str]:
    path = CONFIG_DIR / f"{stage}.json"
    if not path.exists():
        raise SystemExit(f"no portal configuration for stage {stage!r}: write {path}")
    config: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return config


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config: dict[str, str]) -> str:
    """No inline script or style, no eval, no HTML sink (Trusted Types), nothing from a third party.

    Documents and attachments are fetched with the token and shown from blob: URLs; the browser
    talks only to the portal itself, the API and the identity provider.
    """
    connect = " ".join(dict.fromkeys(["'self'", origin(config["api"]), origin(config["issuer"])]))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob:",
            "frame-src blob:",
            "object-src 'none'",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "require-trusted-types-for 'script'",
            "trusted-types 'none'",
        ]
    )


def security_headers(config: dict[str, str]) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(config),
        "Strict-Transport-Security": f"max-age={HSTS_SECONDS}; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        **CUSTOM_HEADERS,
    }


def response_headers_policy(config: dict[str, str]) -> dict[str, Any]:
    """security_headers() in the shape of CloudFront's ResponseHeadersPolicyConfig."""
    headers = security_headers(config)
    return {
        "SecurityHeadersConfig": {
            "ContentSecurityPolicy": {"ContentSecurityPolicy": headers["Content-Security-Policy"], "Override": True},
            "StrictTransportSecurity": {
                "AccessControlMaxAgeSec": HSTS_SECONDS,
                "IncludeSubdomains": True,
                "Preload": True,
                "Override": True,
            },
            "ContentTypeOptions": {"Override": True},
            "FrameOptions": {"FrameOption": headers["X-Frame-Options"], "Override": True},
            "ReferrerPolicy": {"ReferrerPolicy": headers["Referrer-Policy"], "Override": True},
        },
        "CustomHeadersConfig": {
            "Items": [{"Header": name, "Value": value, "Override": True} for name, value in CUSTOM_HEADERS.items()]
        },
    }


def template(stage: str, environment: dict[str, str]) -> dict[str, Any]:
    """infra/portal.yaml for a stage, checked against the API's settings of that stage."""
    config = stage_config(stage)
    issuers = [i.strip() for i in environment.get("TOKEN_ISSUERS", "").split(",")]
    if config["issuer"] not in issuers:
        raise SystemExit(f"portal/config/{stage}.json: issuer {config['issuer']} is not in the stage's TOKEN_ISSUERS")
    resources = load_template(TEMPLATE)
    policy = resources["Resources"]["PortalHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    policy.update(response_headers_policy(config))
    return resources


def build_site(stage: str, out: Path) -> Path:
    """The files to upload to the portal's bucket for a stage."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(PORTAL_DIR, out, ignore=shutil.ignore_patterns("config", ".*"))
    (out / "config.json").write_text(json.dumps(stage_config(stage), indent=2) + "\n", encoding="utf-8")
    return out
