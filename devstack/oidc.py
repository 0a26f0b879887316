"""The devstack's OpenID Connect provider: what the national identity provider is in production.

Authorization code flow with PKCE (S256) for the portal, a public client: discovery document,
an authorize page where a developer says who they are (an INS; the people signed in recently are
offered again), a token endpoint, the JWKS and an end-session endpoint. Its tokens are minted by
devstack/keys.py with this provider as issuer, which devstack/run.py adds to the API's trusted
issuers. Like a real provider it keeps a session (a cookie holding an opaque id), so a reload of
the portal, which keeps its token in memory only, signs in again without a form.

The INS travels only in the form's POST body and inside the tokens, never in a URL.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from chalicelib.core.security.identifiers import InvalidIdentifier, normalize_ins
from devstack import keys

CODE_SECONDS = 60
TOKEN_SECONDS = 3600
SESSION_COOKIE = "devstack_oidc_session"
RECENT = 5


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, body: dict, **headers: str) -> Reply:
    return Reply(status, json.dumps(body).encode(), "application/json", {"Cache-Control": "no-store", **headers})


def _redirect(url: str, **headers: str) -> Reply:
    return Reply(303, headers={"Location": url, "Cache-Control": "no-store", **headers})


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Provider:
    def __init__(self, issuer: str, client_id: str, redirect_uris: list[str], key_file: Path = keys.KEY_FILE):
        self.issuer, self.client_id, self.redirect_uris, self.key_file = issuer, client_id, redirect_uris, key_file
        # The sign-in form's answer is a redirect to the portal, which form-action must allow.
        self.page_csp = (
            "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' "
            + " ".join(redirect_uris)
        )
        self._lock = threading.Lock()
        self._codes: dict[str, dict] = {}
        self._sessions: dict[str, str] = {}  # session id -> INS
        self._recent: list[str] = []

    # --- endpoints ------------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], cookies: dict[str, str]
    ) -> Reply:
        routes = {
            ("GET", "/.well-known/openid-configuration"): lambda: _json(200, self.discovery()),
            ("GET", "/jwks"): lambda: Reply(200, keys.jwks(self.key_file).encode(), "application/json"),
            ("GET", "/authorize"): lambda: self.authorize(query, cookies.get(SESSION_COOKIE)),
            ("POST", "/authorize"): lambda: self.sign_in(form),
            ("POST", "/token"): lambda: self.token(form),
            ("GET", "/logout"): lambda: self.logout(query, cookies.get(SESSION_COOKIE)),
        }
        route = routes.get((method, path))
        return route() if route else Reply(404, b"not found")

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
            "authorization_response_iss_parameter_supported": True,
        }

    def authorize(self, query: dict[str, str], session: str | None) -> Reply:
        problem = self._request_problem(query)
        if problem:
            return self._page(400, "Demande de connexion refusée", f"<p>{html.escape(problem)}</p>")
        with self._lock:
            ins = self._sessions.get(session or "")
        if ins and query.get("prompt") != "login":
            return self._grant(query, ins)
        return self._login_page(query)

    def sign_in(self, form: dict[str, str]) -> Reply:
        problem = self._request_problem(form)
        if problem:
            return self._page(400, "Demande de connexion refusée", f"<p>{html.escape(problem)}</p>")
        try:
            ins = normalize_ins(form.get("ins", ""))
        except InvalidIdentifier as exc:
            return self._login_page(form, error=str(exc))
        session = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[session] = ins
            self._recent = [ins, *[i for i in self._recent if i != ins]][:RECENT]
        cookie = f"{SESSION_COOKIE}={session}; Path=/oidc; HttpOnly; SameSite=Lax"
        return self._grant(form, ins, **{"Set-Cookie": cookie})

    def token(self, form: dict[str, str]) -> Reply:
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use
        if (
            grant is None
            or grant["expires"] < time.time()
            or form.get("client_id") != grant["client_id"]
            or form.get("redirect_uri") != grant["redirect_uri"]
            or _s256(form.get("code_verifier", "")) != grant["code_challenge"]
        ):
            return _json(
                400, {"error": "invalid_grant", "error_description": "unknown, used or expired code, or wrong verifier"}
            )
        subject = "patient-" + hashlib.sha256(grant["ins"].encode()).hexdigest()[:16]
        common = {"iss": self.issuer, "sub": subject, "exp": int(time.time()) + TOKEN_SECONDS, "ins": grant["ins"]}
        access = keys.mint("patient", common, self.key_file)
        identity = keys.mint("patient", {**common, "aud": self.client_id, "nonce": grant["nonce"]}, self.key_file)
        return _json(
            200,
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "id_token": identity,
                "scope": "openid",
            },
        )

    def logout(self, query: dict[str, str], session: str | None) -> Reply:
        with self._lock:
            self._sessions.pop(session or "", None)
        target = query.get("post_logout_redirect_uri", "")
        expired = f"{SESSION_COOKIE}=; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=0"
        if target in self.redirect_uris:
            return _redirect(target, **{"Set-Cookie": expired})
        return self._page(
            200, "Vous êtes déconnecté", "<p>Vous pouvez fermer cette page.</p>", **{"Set-Cookie": expired}
        )

    # --- helpers --------------------------------------------------------------------------------
    def _request_problem(self, params: dict[str, str]) -> str | None:
        if params.get("client_id") != self.client_id:
            return "Application inconnue (client_id)."
        if params.get("redirect_uri") not in self.redirect_uris:
            return "Adresse de retour non enregistrée (redirect_uri)."
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return "Seul le flux « authorization code » d'OpenID Connect est accepté."
        if params.get("code_challenge_method") != "S256" or len(params.get("code_challenge", "")) < 43:
            return "PKCE (S256) est obligatoire."
        if not params.get("state"):
            return "Le paramètre state est obligatoire."
        return None

    def _grant(self, params: dict[str, str], ins: str, **headers: str) -> Reply:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = {
                "ins": ins,
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "code_challenge": params["code_challenge"],
                "nonce": params.get("nonce", ""),
                "expires": time.time() + CODE_SECONDS,
            }
        answer = urlencode({"code": code, "state": params["state"], "iss": self.issuer})
        return _redirect(f"{params['redirect_uri']}?{answer}", **headers)

    def _login_page(self, params: dict[str, str], error: str | None = None) -> Reply:
        names = (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
        )
        hidden = "".join(f'<input type="hidden" name="{n}" value="{html.escape(params.get(n, ""))}">' for n in names)
        with self._lock:
            recent = list(self._recent)
        recent_forms = "".join(
            f'<li><form method="post" action="/oidc/authorize">{hidden}'
            f'<input type="hidden" name="ins" value="{html.escape(ins)}">'
            f'<button type="submit" class="secondary">Se connecter avec l’INS {html.escape(ins)}</button></form></li>'
            for ins in recent
        )
        alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        body = (
            "<p>Ce fournisseur d’identité de développement remplace le fournisseur national : "
            "indiquez qui vous êtes.</p>"
            f"{alert}"
            f'<form method="post" action="/oidc/authorize" class="stack">{hidden}'
            '<label for="ins">INS (matricule à 15 caractères)</label>'
            '<input id="ins" name="ins" required autocomplete="off" inputmode="text" maxlength="21">'
            '<button type="submit">Se connecter</button></form>'
            + (f'<h2>Personnes connectées récemment</h2><ul class="plain">{recent_forms}</ul>' if recent else "")
        )
        return self._page(200, "Connexion à Mon espace santé", body)

    def _page(self, status: int, title: str, body: str, **headers: str) -> Reply:
        page = (
            '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)} — fournisseur d’identité (devstack)</title>"
            '<link rel="stylesheet" href="/css/portal.css"></head><body>'
            '<main id="contenu" class="narrow">'
            f"<h1>{html.escape(title)}</h1>{body}</main></body></html>"
        )
        return Reply(
            status,
            page.encode(),
            "text/html; charset=utf-8",
            {"Content-Security-Policy": self.page_csp, "Cache-Control": "no-store", **headers},
        )
