// Everything the client knows comes through the public REST API with a bearer token, as any
// SPA or mobile app of ours would. The access token lives in memory only; the refresh token in
// localStorage, rotated under a Web Lock so the tabs of one browser never race on it.

import { lang, t } from "./i18n.js";

const REFRESH_KEY = "chat.refresh";
const DEVICE_KEY = "chat.device_id";
const JSON_HEADERS = { "Content-Type": "application/json" };

// Every call says the UI's language, so the server's errors (and anything else it words) come back
// in it; a signed-in user's saved language is the same one (main.js applies it at sign-in).
export const languageHeaders = () => ({ "Accept-Language": lang.value });
const jsonHeaders = () => ({ ...JSON_HEADERS, ...languageHeaders() });

export class SignedOut extends Error {}
export class ApiError extends Error {
  constructor(message, status, body) { super(message); this.status = status; this.body = body; }
}

let access = null;
let onSignedOut = () => {};
export const whenSignedOut = (callback) => { onSignedOut = callback; };

// One stable device id per browser: signing in again replaces this device's session instead of
// adding another entry to the user's device list.
export function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) { id = crypto.randomUUID(); localStorage.setItem(DEVICE_KEY, id); }
  return id;
}

export const hasSession = () => Boolean(localStorage.getItem(REFRESH_KEY));

export function forget() { access = null; localStorage.removeItem(REFRESH_KEY); }

// A field's name before its errors: the catalog's words for the fields the client sends, else
// (English only) the field's own name; a Korean sentence never starts with an English field name.
function fieldLabel(field) {
  if (field === "non_field_errors" || field === "detail") return "";
  const key = `shell.field_${field}`;
  const label = t(key);
  if (label !== key) return `${label}: `;
  return lang.value === "en" ? `${field.replaceAll("_", " ")}: ` : "";
}

// DRF errors are {detail, code} or {field: ["..."]}: show them as the server words them.
export async function problem(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (body?.detail) return new ApiError(body.detail, response.status, body);
  if (body && typeof body === "object") {
    const text = Object.entries(body).map(([field, errors]) =>
      `${fieldLabel(field)}${[].concat(errors).join(" ")}`).join("; ");
    return new ApiError(text, response.status, body);
  }
  if (response.status === 429) return new ApiError(t("shell.too_many_requests"), 429, null);
  return new ApiError(t("shell.server_answered", { status: response.status }), response.status, null);
}

// One run of `task` at a time per `name`: callers in this tab share the run under way, and the tabs
// of this browser take turns under the Web Lock `name` (where the browser has Web Locks). The
// renewal of a rotating refresh token needs both: the server treats a second use of a rotated token
// as theft. Swagger UI's renewal (api_docs_auth.js) uses it too.
const flights = new Map();
export function singleFlight(name, task) {
  if (!flights.has(name)) {
    const run = globalThis.navigator?.locks ? navigator.locks.request(name, task) : task();
    flights.set(name, run.finally(() => flights.delete(name)));
  }
  return flights.get(name);
}

export function refreshTokens() {
  return singleFlight("chat.refresh", async () => {
    const token = localStorage.getItem(REFRESH_KEY); // read under the lock: another tab may have rotated it
    if (!token) throw new SignedOut();
    const r = await fetch("/api/v1/auth/refresh", { method: "POST", headers: jsonHeaders(), body: JSON.stringify({ refresh: token }) });
    if (r.status === 400 || r.status === 401) {
      // Forget only the token that failed: another tab may have just signed in afresh.
      access = null;
      if (localStorage.getItem(REFRESH_KEY) === token) localStorage.removeItem(REFRESH_KEY);
      throw new SignedOut();
    }
    if (!r.ok) throw await problem(r);
    const tokens = await r.json();
    access = tokens.access;
    localStorage.setItem(REFRESH_KEY, tokens.refresh);
  });
}

// Sends with the bearer token: `send(token)` answers something with a `status` (a fetch Response,
// or an XMLHttpRequest upload's outcome); a 401 renews the token once and sends again.
export async function authorized(send) {
  if (!access && hasSession()) await refreshTokens().catch(signedOut);
  const sentWith = access;
  let response = await send(access);
  if (response.status === 401) {
    try {
      if (access === sentWith) await refreshTokens();
    } catch (error) { signedOut(error); }
    response = await send(access);
  }
  return response;
}

// fetch with the bearer token, renewed once on a 401.
export function request(path, { method = "GET", body, headers = {}, signal, form } = {}) {
  return authorized((token) => fetch(path, {
    method, signal,
    headers: { ...languageHeaders(), ...headers, ...(body !== undefined && JSON_HEADERS), ...(token && { Authorization: `Bearer ${token}` }) },
    body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
  }));
}

function signedOut(error) {
  if (error instanceof SignedOut) onSignedOut();
  throw error;
}

// JSON in, JSON out; any non-2xx becomes an ApiError carrying the server's words.
export async function api(path, options = {}) {
  const response = await request(path, options);
  if (!response.ok) throw await problem(response);
  return response.status === 204 ? null : response.json();
}

// Every page of a paginated list (capped, so a huge account cannot stall the page).
export async function allPages(path, maxPages = 20) {
  const results = [];
  for (let page = 1; path && page <= maxPages; page += 1) {
    const body = await api(path);
    if (Array.isArray(body)) return body;
    results.push(...body.results);
    path = body.next ? ((u) => u.pathname + u.search)(new URL(body.next)) : null;
  }
  return results;
}

export async function signIn(email, password) {
  const run = async () => {
    const r = await fetch("/api/v1/auth/login", { method: "POST", headers: jsonHeaders(),
      body: JSON.stringify({ email, password, device_id: deviceId(), device_name: browserName() }) });
    if (!r.ok) throw await problem(r);
    const session = await r.json();
    access = session.access;
    localStorage.setItem(REFRESH_KEY, session.refresh);
    return session;
  };
  // Under the refresh lock, so no tab's refresh reads or clears the token while it changes.
  return navigator.locks ? navigator.locks.request("chat.refresh", run) : run();
}

export async function register(email, password, displayName) {
  const r = await fetch("/api/v1/auth/register", { method: "POST", headers: jsonHeaders(),
    body: JSON.stringify({ email, password, display_name: displayName }) });
  if (!r.ok) throw await problem(r);
}

export async function signOut() {
  try { await request("/api/v1/auth/logout", { method: "POST", body: {} }); } catch { /* signed out anyway */ }
  forget(); // even when the server could not be reached: this browser must not stay signed in
}

function browserName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom/.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  // Names and symbols only, no English word: the device list shows it in either language.
  return `Web: ${browser}${os ? ` · ${os}` : ""}`;
}

// Server-Sent Events over fetch (EventSource cannot send the Authorization header).
export async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) return;
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = { id: null, event: "message", data: [] };
        for (const line of frame.split("\n")) {
          if (!line || line.startsWith(":")) continue; // keep-alive comments
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") event.data.push(value);
          else if (field === "id" || field === "event") event[field] = value;
        }
        if (event.data.length) yield { ...event, data: JSON.parse(event.data.join("\n")) };
      }
    }
  } finally { reader.cancel().catch(() => {}); }
}
