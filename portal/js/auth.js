// Sign-in with OpenID Connect: authorization code with PKCE (S256), the portal being a public
// client. The provider is found by discovery from the configured issuer, so the same code runs
// against the devstack's provider and the national one.
//
// The access token lives in this module's memory only: never in localStorage, sessionStorage
// or a URL. A reload signs in again (the provider's own session makes that a redirect). Only
// the pending request (state, nonce, PKCE verifier, where to come back) waits in sessionStorage
// during the round trip to the provider, and is removed on return.

const PENDING = "mes.connexion";
let config = null;
let provider = null;
let token = null;
let expiresAt = 0;

export function init(portalConfig) {
  config = portalConfig;
}

async function discover() {
  if (!provider) {
    const response = await fetch(`${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
    if (!response.ok) throw new Error("Le service de connexion est injoignable : réessayez plus tard.");
    provider = await response.json();
    if (provider.issuer !== config.issuer) throw new Error("Le service de connexion ne s’annonce pas comme prévu.");
  }
  return provider;
}

function random() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri() {
  return `${location.origin}/`;
}

export function accessToken() {
  return token && Date.now() < expiresAt ? token : null;
}

export async function signIn(returnTo) {
  const endpoint = (await discover()).authorization_endpoint;
  const pending = { state: random(), nonce: random(), verifier: random(), returnTo: returnTo || "#/" };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(pending.verifier)));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: "openid",
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${endpoint}?${query}`);
}

function claimsOf(jwt) {
  const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
}

// On the way back from the provider (?code=…&state=…): checks the answer belongs to the request
// made here, exchanges the code for tokens and removes the code from the address bar. The ID
// token comes straight from the token endpoint over TLS (OpenID Connect Core 3.1.3.7): its
// issuer, audience and nonce are checked, not its signature.
export async function completeSignIn() {
  const answer = new URLSearchParams(location.search);
  if (!answer.has("code") && !answer.has("error")) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", `${location.pathname}${pending ? pending.returnTo : "#/"}`);
  if (!pending || answer.get("state") !== pending.state) throw new Error("Cette réponse de connexion ne correspond à aucune demande : reconnectez-vous.");
  if (answer.has("error")) throw new Error("La connexion a été refusée ou annulée.");
  if (answer.has("iss") && answer.get("iss") !== config.issuer) throw new Error("La réponse de connexion vient d’un autre service.");
  const response = await fetch((await discover()).token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: answer.get("code"),
      redirect_uri: redirectUri(),
      client_id: config.client_id,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.access_token) throw new Error("La connexion n’a pas abouti : reconnectez-vous.");
  const identity = claimsOf(tokens.id_token);
  const audience = [].concat(identity.aud);
  if (identity.iss !== config.issuer || !audience.includes(config.client_id) || identity.nonce !== pending.nonce) {
    throw new Error("La réponse de connexion n’est pas valide : reconnectez-vous.");
  }
  token = tokens.access_token;
  expiresAt = Date.now() + (tokens.expires_in || 300) * 1000;
  return true;
}

// Forgets the token, then ends the provider's session too when it offers that.
export async function signOut() {
  token = null;
  expiresAt = 0;
  const endSession = (await discover().catch(() => ({}))).end_session_endpoint;
  if (!endSession) {
    location.assign(`${redirectUri()}#/`);
    return;
  }
  const query = new URLSearchParams({ client_id: config.client_id, post_logout_redirect_uri: redirectUri() });
  location.assign(`${endSession}?${query}`);
}
