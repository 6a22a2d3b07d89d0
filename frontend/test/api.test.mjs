// api.js without a browser: its SSE parser, the single-flight token refresh and the error shapes.
// The browser globals it reads at call time (fetch, localStorage, navigator) are fakes here.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { setLanguage } from "../src/i18n.js";
import { ApiError, SignedOut, api, forget, problem, refreshTokens, request, signIn, singleFlight, sseEvents, whenSignedOut } from "../src/api.js";

class MemoryStorage {
  items = new Map();
  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  setItem(key, value) { this.items.set(key, String(value)); }
  removeItem(key) { this.items.delete(key); }
}

const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

// A fake server: `routes` maps "METHOD path" to a handler (init, call number) -> Response.
function serve(routes) {
  const calls = [];
  globalThis.fetch = async (path, init = {}) => {
    const key = `${init.method ?? "GET"} ${path}`;
    calls.push({ key, init });
    const handler = routes[key];
    if (!handler) throw new Error(`unexpected ${key}`);
    await new Promise((resolve) => setImmediate(resolve)); // answers arrive later, as on a network
    return handler(init, calls.filter((c) => c.key === key).length);
  };
  return calls;
}

const bearer = (init) => init.headers?.Authorization;
let locks;

beforeEach(() => {
  globalThis.localStorage = new MemoryStorage();
  locks = [];
  // Web Locks: the fake runs the callback at once and records the lock's name.
  globalThis.navigator = { userAgent: "node", locks: { request: async (name, run) => { locks.push(name); return run(); } } };
  forget();
  whenSignedOut(() => {});
});

afterEach(() => { delete globalThis.fetch; });

async function signedIn(access = "a1", refresh = "r1") {
  serve({ "POST /api/v1/auth/login": () => json({ access, refresh }) });
  await signIn("me@example.com", "pw");
}

// --- sseEvents ---------------------------------------------------------------------------------

function body(chunks, { onCancel } = {}) {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      if (!onCancel) controller.close();
    },
    cancel: onCancel,
  });
}

async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("sseEvents", () => {
  const text = [
    ": keep-alive\n\n",
    "id: 1\nevent: message.start\ndata: {\"message_id\": \"m\"}\n\n",
    "id: 2\nevent: delta\ndata: {\"message_id\": \"m\",\ndata: \"text\": \"héllo ✓\"}\n\n",
    "event: nothing\n\n", // no data: not an event
    "id:3\nevent:message.done\ndata:{\"status\": \"complete\"}\n\n",
  ].join("");

  test("parses ids, names, multi-line data and skips comments and empty frames", async () => {
    const events = await collect(sseEvents(body([text])));
    assert.deepEqual(events, [
      { id: "1", event: "message.start", data: { message_id: "m" } },
      { id: "2", event: "delta", data: { message_id: "m", text: "héllo ✓" } },
      { id: "3", event: "message.done", data: { status: "complete" } },
    ]);
  });

  test("gives the same events whatever the chunking, a character split across chunks included", async () => {
    const bytes = new TextEncoder().encode(text);
    const oneByOne = [...bytes].map((byte) => Uint8Array.of(byte));
    assert.deepEqual(await collect(sseEvents(body(oneByOne))), await collect(sseEvents(body([text]))));
  });

  test("a frame without its blank line yet is not an event", async () => {
    const events = await collect(sseEvents(body(["id: 1\nevent: delta\ndata: {\"text\": \"a\"}\n\nid: 2\ndata: {\"text\""])));
    assert.deepEqual(events.map((e) => e.id), ["1"]);
  });

  test("an event without a name is a message", async () => {
    const [event] = await collect(sseEvents(body(["data: 1\n\n"])));
    assert.deepEqual(event, { id: null, event: "message", data: 1 });
  });

  test("stopping early cancels the response body", async () => {
    let cancelled = false;
    const stream = body(["data: 1\n\ndata: 2\n\n"], { onCancel: () => { cancelled = true; } });
    for await (const event of sseEvents(stream)) { assert.equal(event.data, 1); break; }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(cancelled, true);
  });
});

// --- error shapes ------------------------------------------------------------------------------

describe("problem", () => {
  test("{detail, code}: the server's own words, status and body kept", async () => {
    const error = await problem(json({ detail: "A reply is in progress.", code: "reply_in_progress" }, 409));
    assert.ok(error instanceof ApiError);
    assert.equal(error.message, "A reply is in progress.");
    assert.equal(error.status, 409);
    assert.deepEqual(error.body, { detail: "A reply is in progress.", code: "reply_in_progress" });
  });

  test("field errors: each field named in words, non-field errors plain", async () => {
    const error = await problem(json({ display_name: ["Too long.", "Not allowed."], non_field_errors: ["Try again."] }, 400));
    assert.equal(error.message, "Display name: Too long. Not allowed.; Try again.");
    assert.equal(error.status, 400);
  });

  test("not JSON: a 429 asks to wait, anything else names the status", async () => {
    const busy = await problem(new Response("<html>slow down</html>", { status: 429 }));
    assert.equal(busy.message, "Too many requests; try again in a moment.");
    assert.equal(busy.body, null);
    const bad = await problem(new Response("Bad gateway", { status: 502 }));
    assert.equal(bad.message, "The server answered 502.");
    assert.equal(bad.status, 502);
  });

  test("api(): JSON in and out, an ApiError for a refusal, null for 204", async () => {
    await signedIn();
    serve({
      "POST /api/v1/things": (init) => json({ got: JSON.parse(init.body), type: init.headers["Content-Type"] }, 201),
      "GET /api/v1/things/1": () => json({ detail: "Not found.", code: "not_found" }, 404),
      "DELETE /api/v1/things/2": () => new Response(null, { status: 204 }),
    });
    assert.deepEqual(await api("/api/v1/things", { method: "POST", body: { a: 1 } }), { got: { a: 1 }, type: "application/json" });
    await assert.rejects(api("/api/v1/things/1"), (error) => error instanceof ApiError && error.status === 404 && error.message === "Not found.");
    assert.equal(await api("/api/v1/things/2", { method: "DELETE" }), null);
  });
});

// --- the token refresh -------------------------------------------------------------------------

describe("refreshTokens", () => {
  test("concurrent callers share one refresh, under the cross-tab lock", async () => {
    localStorage.setItem("chat.refresh", "r1");
    const calls = serve({ "POST /api/v1/auth/refresh": (init) => {
      assert.deepEqual(JSON.parse(init.body), { refresh: "r1" });
      return json({ access: "a2", refresh: "r2" });
    } });
    await Promise.all([refreshTokens(), refreshTokens(), refreshTokens()]);
    assert.equal(calls.length, 1);
    assert.deepEqual(locks, ["chat.refresh"]);
    assert.equal(localStorage.getItem("chat.refresh"), "r2");
    // The next refresh is a new flight, with the rotated token.
    serve({ "POST /api/v1/auth/refresh": (init) => json({ access: "a3", refresh: JSON.parse(init.body).refresh === "r2" ? "r3" : "bad" }) });
    await refreshTokens();
    assert.equal(localStorage.getItem("chat.refresh"), "r3");
  });

  test("requests refused together renew the token once and are each sent again once", async () => {
    await signedIn("a1", "r1");
    const calls = serve({
      "GET /api/v1/user": (init) => (bearer(init) === "Bearer a2" ? json({ ok: true }) : json({ detail: "Expired.", code: "token_not_valid" }, 401)),
      "POST /api/v1/auth/refresh": () => json({ access: "a2", refresh: "r2" }),
    });
    const answers = await Promise.all([request("/api/v1/user"), request("/api/v1/user"), request("/api/v1/user")]);
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
    assert.equal(calls.filter((c) => c.key === "POST /api/v1/auth/refresh").length, 1);
    assert.equal(calls.filter((c) => c.key === "GET /api/v1/user").length, 6);
  });

  test("a page load without an access token refreshes before its first request", async () => {
    localStorage.setItem("chat.refresh", "r1");
    const calls = serve({
      "POST /api/v1/auth/refresh": () => json({ access: "a2", refresh: "r2" }),
      "GET /api/v1/user": (init) => json({ sent: bearer(init) }),
    });
    assert.deepEqual(await api("/api/v1/user"), { sent: "Bearer a2" });
    assert.deepEqual(calls.map((c) => c.key), ["POST /api/v1/auth/refresh", "GET /api/v1/user"]);
  });

  test("a refused refresh signs out: the token is forgotten and the page told", async () => {
    await signedIn("a1", "r1");
    let told = 0;
    whenSignedOut(() => { told += 1; });
    serve({
      "GET /api/v1/user": () => json({ detail: "Expired.", code: "token_not_valid" }, 401),
      "POST /api/v1/auth/refresh": () => json({ detail: "Session revoked.", code: "session_revoked" }, 401),
    });
    await assert.rejects(request("/api/v1/user"), SignedOut);
    assert.equal(told, 1);
    assert.equal(localStorage.getItem("chat.refresh"), null);
  });

  test("a refused refresh keeps a token another tab stored meanwhile", async () => {
    localStorage.setItem("chat.refresh", "r1");
    serve({ "POST /api/v1/auth/refresh": () => {
      localStorage.setItem("chat.refresh", "fresh-from-another-tab"); // signed in afresh elsewhere
      return json({ detail: "Token is blacklisted", code: "token_not_valid" }, 401);
    } });
    await assert.rejects(refreshTokens(), SignedOut);
    assert.equal(localStorage.getItem("chat.refresh"), "fresh-from-another-tab");
  });

  test("no refresh token: SignedOut without a request", async () => {
    const calls = serve({});
    await assert.rejects(refreshTokens(), SignedOut);
    assert.equal(calls.length, 0);
  });

  test("a server error is an ApiError, not a sign-out, and the next call tries again", async () => {
    localStorage.setItem("chat.refresh", "r1");
    serve({ "POST /api/v1/auth/refresh": (_init, n) => (n === 1 ? new Response("down", { status: 503 }) : json({ access: "a2", refresh: "r2" })) });
    await assert.rejects(refreshTokens(), (error) => error instanceof ApiError && error.status === 503);
    assert.equal(localStorage.getItem("chat.refresh"), "r1");
    await refreshTokens();
    assert.equal(localStorage.getItem("chat.refresh"), "r2");
  });

  test("without Web Locks the refresh still runs once", async () => {
    globalThis.navigator = { userAgent: "node" };
    localStorage.setItem("chat.refresh", "r1");
    const calls = serve({ "POST /api/v1/auth/refresh": () => json({ access: "a2", refresh: "r2" }) });
    await Promise.all([refreshTokens(), refreshTokens()]);
    assert.equal(calls.length, 1);
  });
});

describe("singleFlight", () => {
  test("one run per name at a time, shared by its callers; other names run beside it", async () => {
    let runs = 0;
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const task = async () => { runs += 1; await gate; return runs; };
    const a = [singleFlight("a", task), singleFlight("a", task)];
    const b = singleFlight("b", task);
    assert.equal(a[0], a[1]);
    release();
    assert.deepEqual(await Promise.all([...a, b]), [2, 2, 2]);
    assert.equal(runs, 2);
    assert.deepEqual(locks, ["a", "b"]);
    await singleFlight("a", task); // finished: the next call is a run of its own
    assert.equal(runs, 3);
  });

  test("a failed run is not kept: the next call runs again", async () => {
    await assert.rejects(singleFlight("c", async () => { throw new Error("down"); }), /down/);
    assert.equal(await singleFlight("c", async () => "up"), "up");
  });
});

describe("the UI's language on every call", () => {
  afterEach(() => setLanguage("en", { remember: false }));

  test("Accept-Language follows setLanguage; a Korean error never starts with an English field name", async () => {
    globalThis.localStorage = new MemoryStorage();
    globalThis.navigator = { userAgent: "node" };
    forget();
    const calls = serve({
      "POST /api/v1/auth/login": () => json({ access: "a", refresh: "r" }),
      "GET /api/v1/things": () => json({}),
    });
    setLanguage("ko", { remember: false });
    await signIn("a@example.com", "pw");
    await api("/api/v1/things");
    assert.deepEqual(calls.map((c) => c.init.headers["Accept-Language"]), ["ko", "ko"]);
    const error = await problem(json({ new_password: ["너무 짧아요."], mystery_field: ["이상해요."] }, 400));
    assert.equal(error.message, "새 비밀번호: 너무 짧아요.; 이상해요.");
    setLanguage("en", { remember: false });
    await api("/api/v1/things");
    assert.equal(calls.at(-1).init.headers["Accept-Language"], "en");
  });
});
