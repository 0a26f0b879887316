// The API as docs/api.md states it. The token goes in the Authorization header, never in a URL;
// binary content is fetched the same way and shown from blob: URLs.

import { accessToken, signIn } from "./auth.js";

let base = "";

// What each error code of the contract means to a person; the API's own message follows it.
const LEADS = {
  invalid_request: "Certaines informations ne sont pas valides.",
  invalid_ins: "L’INS saisi n’est pas valide.",
  invalid_rpps: "Le numéro RPPS saisi n’est pas valide.",
  unauthenticated: "Votre session a expiré : reconnectez-vous.",
  forbidden: "Cette action ne vous est pas permise.",
  invalid_code: "Le code provisoire, l’INS ou la date de naissance ne correspondent pas.",
  not_found: "Cet élément est introuvable.",
  conflict: "Cette action n’est pas possible dans l’état actuel.",
  payload_too_large: "Le fichier est trop volumineux (4 Mo au plus).",
  unsupported_media_type: "Ce type de fichier n’est pas accepté (PDF, JPEG, PNG ou texte).",
  too_many_attempts: "Trop d’essais : le code est bloqué.",
};

export class ApiError extends Error {
  constructor(status, code, detail, details) {
    const lead = LEADS[code] || (status >= 500 ? "Le service rencontre un problème : réessayez plus tard." : `La demande a échoué (HTTP ${status}).`);
    super(detail ? `${lead} ${detail}` : lead);
    Object.assign(this, { status, code, lead, detail, details: details || [] });
  }
}

export function configure(apiBase) {
  base = apiBase.replace(/\/$/, "");
}

export function apiUrl(path) {
  return base + path;
}

async function send(method, path, { body, query, auth = true } = {}) {
  const url = new URL(base + path);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  const headers = {};
  if (auth && !accessToken()) {
    await signIn(location.hash); // expired: the provider's session signs in again
    throw new ApiError(401, "unauthenticated", null);
  }
  if (auth) headers.Authorization = `Bearer ${accessToken()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", null);
  }
  if (response.ok) return response;
  let error = {};
  try {
    error = (await response.json()).error || {};
  } catch {
    // not the contract's shape (a proxy, a gateway): the status says enough
  }
  if (response.status === 401 && auth) signIn(location.hash);
  throw new ApiError(response.status, error.code, error.message, error.details);
}

export async function api(method, path, options) {
  const response = await send(method, path, options);
  return response.status === 204 ? null : response.json();
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body) => api("POST", path, { body });
export const put = (path, body) => api("PUT", path, { body });
export const patch = (path, body) => api("PATCH", path, { body });
export const del = (path) => api("DELETE", path);
export const publicPost = (path, body) => api("POST", path, { body, auth: false });
export const publicGet = (path, query) => api("GET", path, { query, auth: false });

export async function blob(path) {
  return (await send("GET", path)).blob();
}

// Every page of a list, for short lists shown whole (the catalogue, the connections).
export async function all(path, query, getPage = get) {
  const items = [];
  let cursor = null;
  do {
    const page = await getPage(path, { ...query, limit: 200, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

export async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

// Saves bytes fetched with the token under a file name.
export function saveAs(data, filename) {
  const url = URL.createObjectURL(data);
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
