"""The portal's deployment (infra/portal.yaml via infra/portal.py) and the devstack's sign-in
provider (devstack/oidc.py), checked without a browser."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from devstack import keys, oidc, portal_server
from infra import package, portal

PROD = package.stage_config("prod")["environment"]


def _template() -> dict:
    return portal.template("prod", PROD)


def _resource(kind: str) -> dict:
    (props,) = [r["Properties"] for r in _template()["Resources"].values() if r["Type"] == kind]
    return props


def test_csp_has_no_unsafe_source_and_names_only_the_api_and_the_provider():
    config = portal.stage_config("prod")
    policy = dict(part.split(" ", 1) for part in portal.content_security_policy(config).split("; "))
    assert "unsafe" not in json.dumps(policy)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["img-src"] == "'self' blob:" and policy["frame-src"] == "blob:"
    assert policy["connect-src"] == "'self' https://api.monespacesante.fr https://auth.esante.gouv.fr"
    assert policy["require-trusted-types-for"] == "'script'"


def test_cloudfront_sends_exactly_the_headers_the_local_server_sends():
    config = portal.stage_config("prod")
    policy = _resource("AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    security, custom = policy["SecurityHeadersConfig"], policy["CustomHeadersConfig"]["Items"]
    hsts = security["StrictTransportSecurity"]
    sent = {
        "Content-Security-Policy": security["ContentSecurityPolicy"]["ContentSecurityPolicy"],
        "Strict-Transport-Security": f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        **{item["Header"]: item["Value"] for item in custom},
    }
    assert sent == portal.security_headers(config)
    assert hsts["IncludeSubdomains"] and hsts["Preload"] and security["ContentTypeOptions"]["Override"]


def test_the_bucket_is_private_and_read_only_by_the_distribution_over_tls():
    bucket = _resource("AWS::S3::Bucket")
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    allow, deny = _resource("AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert "${PortalDistribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    control = _resource("AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert control["SigningBehavior"] == "always" and control["OriginAccessControlOriginType"] == "s3"


def test_the_distribution_serves_https_only_with_the_headers_policy():
    config = _resource("AWS::CloudFront::Distribution")["DistributionConfig"]
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "PortalHeaders"}
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["PortalOriginAccessControl", "Id"]}


def test_a_stage_whose_issuer_the_api_does_not_trust_is_refused():
    with pytest.raises(SystemExit, match="TOKEN_ISSUERS"):
        portal.template("prod", {**PROD, "TOKEN_ISSUERS": "https://elsewhere.example"})


def test_the_site_of_a_stage_holds_its_config_and_not_the_others(tmp_path):
    site = portal.build_site("dev", tmp_path / "site")
    assert json.loads((site / "config.json").read_text()) == portal.stage_config("dev")
    assert (site / "index.html").exists() and (site / "js" / "main.js").exists()
    assert not (site / "config").exists()


# --- the devstack's provider ------------------------------------------------------------------
PORTAL = "http://127.0.0.1:3000/"
ISSUER = "http://127.0.0.1:3000/oidc"
INS = "255082A12345646"


def _request(verifier: str = "v" * 43, **overrides) -> dict:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return {
        "client_id": "portal", "redirect_uri": PORTAL, "response_type": "code", "scope": "openid",
        "state": "s1", "nonce": "n1", "code_challenge": challenge, "code_challenge_method": "S256", **overrides,
    }  # fmt: skip


@pytest.fixture
def provider(tmp_path):
    return oidc.Provider(ISSUER, "portal", [PORTAL], key_file=tmp_path / "key.pem")


def _sign_in(provider, **form) -> dict:
    reply = provider.handle("POST", "/authorize", {}, {**_request(), "ins": INS, **form}, {})
    assert reply.status == 303, reply.body
    return {k: v[0] for k, v in parse_qs(urlsplit(reply.headers["Location"]).query).items()}


def _token(provider, code: str, verifier: str = "v" * 43):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "portal",
        "redirect_uri": PORTAL,
        "code_verifier": verifier,
    }
    return provider.handle("POST", "/token", {}, form, {})


def test_code_with_the_right_verifier_gives_a_patient_token_the_api_trusts(provider):
    answer = _sign_in(provider)
    assert answer["state"] == "s1" and answer["iss"] == ISSUER
    tokens = json.loads(_token(provider, answer["code"]).body)
    public = jwt.PyJWKSet.from_json(keys.jwks(provider.key_file)).keys[0].key
    access = jwt.decode(tokens["access_token"], public, algorithms=["RS256"], audience=keys.AUDIENCE, issuer=ISSUER)
    assert access["role"] == "patient" and access["ins"] == INS
    identity = jwt.decode(tokens["id_token"], public, algorithms=["RS256"], audience="portal", issuer=ISSUER)
    assert identity["nonce"] == "n1"


def test_a_code_is_single_use_and_bound_to_its_verifier(provider):
    code = _sign_in(provider)["code"]
    assert _token(provider, code, verifier="w" * 43).status == 400  # a stolen code without the verifier
    assert _token(provider, code).status == 400  # and it is spent
    code = _sign_in(provider)["code"]
    assert _token(provider, code).status == 200
    assert _token(provider, code).status == 400


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "other"},
        {"redirect_uri": "https://evil.example/"},
        {"code_challenge_method": "plain"},
        {"state": ""},
    ],
    ids=["client", "redirect", "no-pkce", "no-state"],
)
def test_bad_requests_get_a_page_not_a_redirect(provider, overrides):
    reply = provider.handle("GET", "/authorize", {**_request(), **overrides}, {}, {})
    assert reply.status == 400 and "Location" not in reply.headers


def test_the_session_signs_in_again_without_the_form_until_logout(provider):
    reply = provider.handle("POST", "/authorize", {}, {**_request(), "ins": INS}, {})
    session = reply.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    cookies = {oidc.SESSION_COOKIE: session}
    assert provider.handle("GET", "/authorize", _request(), {}, cookies).status == 303
    logout = provider.handle("GET", "/logout", {"post_logout_redirect_uri": PORTAL}, {}, cookies)
    assert logout.headers["Location"] == PORTAL and "Max-Age=0" in logout.headers["Set-Cookie"]
    page = provider.handle("GET", "/authorize", _request(), {}, cookies)
    assert page.status == 200 and b'name="ins"' in page.body


def test_an_invalid_ins_is_asked_again_without_echoing_it(provider):
    reply = provider.handle("POST", "/authorize", {}, {**_request(), "ins": "1234"}, {})
    assert reply.status == 200 and b'role="alert"' in reply.body


# --- the devstack's static server -------------------------------------------------------------
@pytest.fixture
def server():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = portal_server.start(port, 8000)
    yield f"http://127.0.0.1:{port}"
    running.shutdown()
    running.server_close()


def _get(url: str, **headers: str):
    import http.client

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    connection.request("GET", parts.path, headers=headers)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_the_local_server_sends_the_deployed_headers_and_compresses(server):
    status, headers, _body = _get(f"{server}/js/main.js", **{"Accept-Encoding": "gzip"})
    assert (
        status == 200
        and headers["Content-Encoding"] == "gzip"
        and headers["Content-Type"] == "text/javascript; charset=utf-8"
    )
    config = json.loads(_get(f"{server}/config.json")[2])
    assert {k: headers[k] for k in portal.security_headers(config)} == portal.security_headers(config)


@pytest.mark.parametrize("path", ["/../README.md", "/%2e%2e/app.py", "/config/prod.json", "/js/", "/nothing.js"])
def test_the_local_server_serves_nothing_outside_the_site(server, path):
    status, headers, _ = _get(server + path)
    assert status == 404 and "Content-Security-Policy" in headers
