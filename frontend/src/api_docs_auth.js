/*
 * Swagger UI at /api/docs/: keeps the Authorize dialog truthful once access tokens expire.
 *
 * Not part of the web client's page: build.mjs bundles it on its own, as a classic script
 * (dist/client/api_docs_auth.js, served as /static/client/api_docs_auth.js), sharing api.js's
 * single-flight renewal (singleFlight). Loaded after swagger-ui-bundle.js and before drf-spectacular's start-up script (see
 * templates/drf_spectacular/swagger_ui.html), it wraps SwaggerUIBundle so that the options
 * drf-spectacular passes get one more request interceptor (run after drf-spectacular's own) and
 * one more plugin. Only Swagger UI's public API is used to change the authorization:
 * ui.authActions.authorizeOauth2WithPersistOption / logoutWithPersistOption and
 * ui.errActions.newAuthErr (a message in the Authorize dialog).
 *
 * - A request that carries the token of the "sign in with password" scheme (OAuth2 password flow)
 *   is renewed with the refresh token from the login answer: before it is sent when the access
 *   token has expired, or when the server answers 401 `token_not_valid` (then the request is
 *   sent again once with the new token). POST /api/v1/auth/refresh rotates the pair; the new pair
 *   replaces the old one in Swagger UI (and in localStorage, persistAuthorization). One renewal
 *   at a time per scheme, across tabs too (api.js's singleFlight: Web Locks, where the browser has
 *   them, i.e. in a secure context): a tab
 *   first adopts the pair another tab already renewed for the same session (localStorage), so a
 *   rotated refresh token is not sent again (the server takes that for theft and signs the
 *   session out).
 * - When it cannot be renewed (the refresh token expired, the session was signed out: 401
 *   `token_not_valid`, `token_reused` or `session_revoked`), Swagger UI is logged out of that
 *   scheme, so the dialog shows "not authorized" and says why.
 * - A pasted bearer token (no refresh token) is logged out when it expires, checked every second,
 *   and when the server refuses it.
 * - The password typed in the dialog is not kept in Swagger UI's state (nor in localStorage).
 */
import { singleFlight } from "./api.js";

const script = document.currentScript;
const REFRESH_URL = script.dataset.refreshUrl;
const LOCK_NAME = "api-docs-token-renewal";
const CHECK_EVERY_MS = 1000;
// Renew shortly before the expiry, so the request does not arrive just after it.
const EXPIRY_MARGIN_MS = 1000;
const createUI = window.SwaggerUIBundle;
let ui = null;

// --- tokens --------------------------------------------------------------------------------

function jwtClaims(token) {
  const part = typeof token === "string" && token.split(".")[1];
  if (!part) return {};
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "="))) || {};
  } catch (e) {
    return {};
  }
}

function jwtExpiryMs(token) {
  const exp = jwtClaims(token).exp;
  return typeof exp === "number" ? exp * 1000 : null;
}

function hasExpired(token, marginMs) {
  const expiry = jwtExpiryMs(token);
  return expiry !== null && expiry <= Date.now() + (marginMs || 0);
}

const accessOf = (token) => token && (token.access_token || token.access);
const refreshOf = (token) => token && (token.refresh_token || token.refresh);
const renewable = (token) => Boolean(refreshOf(token)) && !hasExpired(refreshOf(token));
// The same device session (claim "sid", accounts/tokens.py), whoever signed in since.
const sessionOf = (token) => jwtClaims(refreshOf(token)).sid;

function authorizedSchemes() {
  const authorized = ui && ui.authSelectors.authorized();
  return authorized ? authorized.toJS() : {};
}

function storedToken(name) {
  // What this or another tab last persisted (persistAuthorization).
  try {
    const entry = JSON.parse(localStorage.getItem("authorized") || "{}")[name];
    return entry && entry.token;
  } catch (e) {
    return null;
  }
}

function bearerOf(request) {
  const headers = request.headers || {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === "authorization");
  const match = key && /^bearer\s+(\S+)$/i.exec(String(headers[key]));
  return match ? match[1] : null;
}

// The scheme whose token a request carries: {name, oauth2: true|false}, or null.
function schemeOf(access) {
  for (const [name, auth] of Object.entries(authorizedSchemes())) {
    const type = auth.schema && auth.schema.type;
    if (type === "oauth2" && accessOf(auth.token) === access) return { name, oauth2: true };
    if (type === "http" && auth.value === access) return { name, oauth2: false };
  }
  return null;
}

function withBearer(request, access) {
  const headers = {};
  for (const [k, v] of Object.entries(request.headers || {})) {
    if (k.toLowerCase() !== "authorization") headers[k] = v;
  }
  headers.Authorization = "Bearer " + access;
  return { ...request, headers };
}

// --- sign out, renew -----------------------------------------------------------------------

function signOut(name, message) {
  if (!(name in authorizedSchemes())) return;
  ui.authActions.logoutWithPersistOption([name]);
  ui.errActions.newAuthErr({ authId: name, level: "warning", source: "auth", message });
  console.warn("api-docs: " + name + ": " + message);
}

function adopt(auth, token) {
  const { token: _old, ...rest } = auth;
  ui.authActions.authorizeOauth2WithPersistOption({ auth: rest, token });
}

async function renewNow(name, staleAccess) {
  const auth = authorizedSchemes()[name];
  if (!auth || !auth.token) return null;
  let token = auth.token;
  const stored = storedToken(name);
  if (stored && refreshOf(stored) !== refreshOf(token) && sessionOf(stored) && sessionOf(stored) === sessionOf(token)) {
    token = stored; // another tab renewed this session: its refresh token is the live one
  }
  if (accessOf(token) !== staleAccess && !hasExpired(accessOf(token), EXPIRY_MARGIN_MS)) {
    if (token !== auth.token) adopt(auth, token);
    return accessOf(token);
  }
  if (!renewable(token)) {
    signOut(name, "The session expired. Authorize again.");
    return null;
  }
  let response;
  try {
    response = await fetch(REFRESH_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh: refreshOf(token) }),
      credentials: "same-origin",
    });
  } catch (e) {
    console.warn("api-docs: could not renew the access token", e);
    return null; // offline: the request goes out as it is, and is answered 401
  }
  if (response.ok) {
    const pair = await response.json();
    adopt(auth, { ...token, ...pair, access_token: pair.access, refresh_token: pair.refresh });
    return pair.access;
  }
  if (response.status === 401) {
    signOut(name, "The session was signed out or has expired. Authorize again.");
  }
  return null; // throttled or failing: keep the authorization, the next request tries again
}

// One renewal per scheme at a time, in this tab and across tabs: a promise of the new access token
// (or null).
function renew(name, staleAccess) {
  return singleFlight(`${LOCK_NAME}:${name}`, () => renewNow(name, staleAccess));
}

async function refusedCode(response) {
  if (response.status !== 401) return null;
  try {
    return (await response.clone().json()).code || null;
  } catch (e) {
    return null;
  }
}

// fetch for one request that carried a scheme's token: on 401, renew (unless that was tried
// already for this request) and send it again once.
function fetchRenewingOnce(scheme, sentAccess, mayRenew, innerFetch) {
  const send = innerFetch || ((url, init) => fetch(url, init));
  return async (url, init) => {
    const response = await send(url, init);
    const code = await refusedCode(response);
    if (code === "token_not_valid" && scheme.oauth2) {
      const access = mayRenew && (await renew(scheme.name, sentAccess));
      return access ? send(url, withBearer(init, access)) : response;
    }
    if (code === "token_not_valid" || code === "session_revoked") {
      signOut(scheme.name, "The server refused the token (" + code + "). Authorize again.");
    }
    return response;
  };
}

// --- Swagger UI hooks ------------------------------------------------------------------------

function wrapRequestInterceptor(before) {
  return async (request) => {
    request = (before && (await before(request))) || request;
    let access = ui && !request.loadSpec && bearerOf(request);
    const scheme = access && schemeOf(access);
    if (!scheme) return request;
    const renewFirst = scheme.oauth2 && hasExpired(access, EXPIRY_MARGIN_MS);
    if (renewFirst) {
      const renewed = await renew(scheme.name, access);
      if (renewed) {
        request = withBearer(request, renewed);
        access = renewed;
      }
    }
    request.userFetch = fetchRenewingOnce(scheme, access, !renewFirst, request.userFetch);
    return request;
  };
}

// The OAuth2 password flow keeps what was typed in the dialog, password included, in the
// authorization (and persists it): only the token is needed, renewal uses the refresh token.
const ForgetPasswordPlugin = () => ({
  statePlugins: {
    auth: {
      wrapActions: {
        authorizeOauth2: (original) => (payload) => {
          if (payload && payload.auth && "password" in payload.auth) {
            const { password: _password, ...auth } = payload.auth;
            payload = { ...payload, auth };
          }
          return original(payload);
        },
      },
    },
  },
});

function checkExpiry() {
  for (const [name, auth] of Object.entries(authorizedSchemes())) {
    const type = auth.schema && auth.schema.type;
    if (type === "http" && hasExpired(auth.value)) {
      signOut(name, "The token expired. Authorize again.");
    } else if (type === "oauth2" && auth.token && hasExpired(accessOf(auth.token)) && !renewable(auth.token)) {
      signOut(name, "The session expired. Authorize again.");
    }
  }
}

function SwaggerUIBundleRenewingTokens(options) {
  ui = createUI({
    ...options,
    requestInterceptor: wrapRequestInterceptor(options.requestInterceptor),
    plugins: [...(options.plugins || []), ForgetPasswordPlugin],
  });
  window.setInterval(checkExpiry, CHECK_EVERY_MS);
  return ui;
}

window.SwaggerUIBundle = Object.assign(SwaggerUIBundleRenewingTokens, createUI);
