// stream.js against a scripted server and a fake clock: resume without duplicates, back-off,
// waking when the browser is back online, drift, abort.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ApiError, SignedOut } from "../src/api.js";
import { BACKOFF_MAX_MS, backoff, followReply, replyFields, sendForStream } from "../src/stream.js";

const CONVERSATION = "c0ffee00-0000-4000-8000-000000000000";
const frame = (id, event, data) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

// The events of one reply, as the server numbers them (`<message id>:<seq>`): start, deltas
// "t0 ", "t1 "..., done.
function reply(messageId, tokens) {
  const id = (seq) => `${messageId}:${seq}`;
  const events = [[id(1), "message.start", { message_id: messageId, model: "m" }]];
  for (let i = 0; i < tokens; i += 1) events.push([id(i + 2), "delta", { message_id: messageId, text: `t${i} ` }]);
  events.push([id(tokens + 2), "message.done", { message_id: messageId, status: "complete", finish_reason: "stop" }]);
  return events;
}
const seq = (id) => Number(String(id).split(":").at(-1));

// A scripted server: each connection takes the next script, {status, body, events, end}, where
// `end` is "close" (a clean end), "drop" (a network error mid-stream) or "hang" (stays open).
// A connection's ReadableStream errors when the request's signal aborts, as fetch's does.
function server(scripts) {
  const requests = [];
  const request = async (path, { headers, signal }) => {
    requests.push({ path, headers });
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    const script = scripts.shift();
    if (!script) throw new Error("no more connections were expected");
    if (script.fail) throw script.fail;
    if (script.status && script.status !== 200) {
      return new Response(JSON.stringify(script.body ?? {}), { status: script.status, headers: { "Content-Type": "application/json" } });
    }
    // One frame per read, then the end: an error discards what is still queued, so the frames
    // go out before the drop, as they would have crossed the network.
    const frames = (script.events ?? []).map(([id, name, data]) => new TextEncoder().encode(frame(id, name, data)));
    const body = new ReadableStream({
      start(controller) {
        signal?.addEventListener("abort", () => { try { controller.error(new DOMException("aborted", "AbortError")); } catch { /* closed */ } });
      },
      pull(controller) {
        if (frames.length) return controller.enqueue(frames.shift());
        if (script.end === "drop") controller.error(new TypeError("network error"));
        else if (script.end !== "hang") controller.close();
        return new Promise(() => {}); // "hang": nothing more, until aborted
      },
    });
    return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
  };
  return { request, requests };
}

class FakeClock {
  timers = new Map();
  delays = [];
  next = 1;
  setTimeout(callback, ms) { const id = this.next++; this.timers.set(id, callback); this.delays.push(ms); return id; }
  clearTimeout(id) { this.timers.delete(id); }
  fire() { const due = [...this.timers.values()]; this.timers.clear(); for (const callback of due) callback(); }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

// Runs the generator to its end; whenever it waits on the clock, `onWait` decides (default: the
// time passes). Fails if it stalls with nothing to wait for.
async function drive(generator, clock, { onWait = () => clock.fire(), onItem = () => {} } = {}) {
  const items = [];
  let finished = false;
  let failure = null;
  const task = (async () => {
    try { for await (const item of generator) { items.push(item); onItem(item, items); } }
    catch (error) { failure = error; }
    finally { finished = true; }
  })();
  for (let idle = 0; !finished; ) {
    await settle();
    if (clock.timers.size) { idle = 0; onWait(items); }
    else if (++idle > 200) throw new Error(`stalled after ${JSON.stringify(items.map((i) => i.type))}`);
  }
  await task;
  if (failure) throw failure;
  return items;
}

const texts = (items) => items.filter((i) => i.type === "event" && i.name === "delta").map((i) => i.data.text).join("");
const ids = (items) => items.filter((i) => i.type === "event").map((i) => seq(i.id));

describe("followReply", () => {
  test("follows a reply to its end in one connection", async () => {
    const { request, requests } = server([{ events: reply("m1", 3) }]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock }), clock);
    assert.deepEqual(items.map((i) => i.type === "event" ? i.name : i.type),
      ["open", "message.start", "delta", "delta", "delta", "message.done"]);
    assert.equal(texts(items), "t0 t1 t2 ");
    assert.deepEqual(requests, [{ path: `/api/v1/conversations/${CONVERSATION}/stream`, headers: {} }]);
    assert.deepEqual(clock.delays, []);
  });

  test("resumes after a dropped connection with Last-Event-ID, without a duplicate or a gap", async () => {
    const events = reply("m1", 10);
    const { request, requests } = server([
      { events: events.slice(0, 5), end: "drop" },
      { events: events.slice(5, 8), end: "drop" },
      { events: events.slice(8) },
    ]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock }), clock);
    assert.deepEqual(ids(items), events.map(([id]) => seq(id)));
    assert.equal(texts(items), "t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 ");
    // The id sent back is the one received, whole; once the reply is known, the stream asks for it.
    assert.deepEqual(requests.map((r) => r.headers), [{}, { "Last-Event-ID": "m1:5" }, { "Last-Event-ID": "m1:8" }]);
    const path = `/api/v1/conversations/${CONVERSATION}/stream`;
    assert.deepEqual(requests.map((r) => r.path), [path, `${path}?message_id=m1`, `${path}?message_id=m1`]);
    assert.deepEqual(items.filter((i) => i.type === "lost").map((i) => i.retryIn), [500, 500]);
    assert.deepEqual(clock.delays, [500, 500]); // events arrived before each drop: the back-off starts over
  });

  test("a given lastEventId resumes the first connection too", async () => {
    const events = reply("m1", 4);
    const { request, requests } = server([{ events: events.slice(3) }]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock, lastEventId: "m1:3", messageId: "m1" }), clock);
    assert.deepEqual(requests[0].headers, { "Last-Event-ID": "m1:3" });
    assert.equal(requests[0].path, `/api/v1/conversations/${CONVERSATION}/stream?message_id=m1`);
    assert.deepEqual(ids(items), [4, 5, 6]);
  });

  test("an older server's bare numbers are sent back as they came", async () => {
    const events = reply("m1", 3).map(([id, name, data]) => [seq(id), name, data]);
    const { request, requests } = server([{ events: events.slice(0, 2), end: "drop" }, { events: events.slice(2) }]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock, messageId: "m1" }), clock);
    assert.deepEqual(requests.map((r) => r.headers), [{}, { "Last-Event-ID": "2" }]);
    assert.deepEqual(ids(items), [1, 2, 3, 4, 5]);
  });

  test("backs off 0.5, 1, 2, 4, 8, 8 s while the server cannot be reached, and starts over after an event", async () => {
    const down = { fail: new TypeError("Failed to fetch") };
    const events = reply("m1", 2);
    const { request } = server([down, down, down, down, down, down,
      { events: events.slice(0, 2), end: "drop" }, down, { events: events.slice(2) }]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock }), clock);
    assert.deepEqual(clock.delays, [500, 1000, 2000, 4000, 8000, 8000, 500, 1000]);
    assert.deepEqual(items.filter((i) => i.type === "lost").map((i) => i.retryIn), clock.delays);
    assert.deepEqual(ids(items), [1, 2, 3, 4]);
    assert.equal(backoff(30), BACKOFF_MAX_MS);
  });

  test("a server error or a 429 is retried; the request's own refusal is thrown at once", async () => {
    const clock = new FakeClock();
    const retried = server([{ status: 503 }, { status: 429, body: { detail: "Slow down." } }, { events: reply("m1", 1) }]);
    const items = await drive(followReply(CONVERSATION, { request: retried.request, clock }), clock);
    assert.deepEqual(items.filter((i) => i.type === "lost").map((i) => i.error.status), [503, 429]);
    assert.equal(items.at(-1).name, "message.done");

    const gone = server([{ status: 404, body: { detail: "Not found.", code: "not_found" } }]);
    await assert.rejects(drive(followReply(CONVERSATION, { request: gone.request, clock }), clock),
      (error) => error instanceof ApiError && error.status === 404 && error.message === "Not found.");
    assert.equal(gone.requests.length, 1);

    const signedOut = server([{ fail: new SignedOut() }]);
    await assert.rejects(drive(followReply(CONVERSATION, { request: signedOut.request, clock }), clock), SignedOut);
  });

  test("coming back online reconnects at once instead of at the end of the back-off", async () => {
    const events = reply("m1", 3);
    const { request, requests } = server([{ fail: new TypeError("offline") }, { fail: new TypeError("offline") },
      { events }]);
    const clock = new FakeClock();
    const online = new EventTarget();
    let wakes = 0;
    const items = await drive(followReply(CONVERSATION, { request, clock, online }), clock, {
      onWait: () => { wakes += 1; online.dispatchEvent(new Event("online")); },
    });
    assert.equal(wakes, 2);
    assert.equal(requests.length, 3);
    assert.equal(clock.timers.size, 0, "the back-off timer is cleared when woken");
    assert.equal(items.at(-1).name, "message.done");
  });

  test("drift: a resume that meets another reply's events ends with drift, not with its events", async () => {
    const ours = reply("m1", 6);
    const theirs = reply("m2", 3); // a message sent from another device while we were away
    const { request, requests } = server([{ events: ours.slice(0, 4), end: "drop" }, { events: theirs }]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock }), clock);
    assert.equal(items.at(-1).type, "drift");
    assert.ok(items.filter((i) => i.type === "event").every((i) => i.data.message_id === "m1"));
    assert.deepEqual(ids(items), [1, 2, 3, 4]);
    assert.equal(requests.length, 2, "no reconnection after drift");
  });

  test("drift: the expected reply is not the one the server streams", async () => {
    const { request } = server([{ events: reply("m2", 2) }]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock, messageId: "m1" }), clock);
    assert.deepEqual(items.map((i) => i.type), ["open", "drift"]);
  });

  test("drift: resuming twice tells nothing (the reply ended beyond what we saw), so it stops asking", async () => {
    const events = reply("m1", 6);
    const { request, requests } = server([{ events: events.slice(0, 3), end: "drop" }, { events: [] }, { events: [] },
      { events: events.slice(3) }]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock }), clock);
    assert.equal(items.at(-1).type, "drift");
    assert.equal(requests.length, 3);
  });

  test("abort while waiting to reconnect ends it quietly, without another request", async () => {
    const { request, requests } = server([{ fail: new TypeError("offline") }]);
    const clock = new FakeClock();
    const control = new AbortController();
    const items = await drive(followReply(CONVERSATION, { request, clock, signal: control.signal }), clock, {
      onWait: () => control.abort(),
    });
    assert.deepEqual(items.map((i) => i.type), ["lost"]);
    assert.equal(requests.length, 1);
    assert.equal(clock.timers.size, 0);
  });

  test("abort in the middle of a reply ends it quietly: no lost, no retry, nothing after", async () => {
    const events = reply("m1", 5);
    const { request, requests } = server([{ events: events.slice(0, 3), end: "hang" }]);
    const clock = new FakeClock();
    const control = new AbortController();
    const items = await drive(followReply(CONVERSATION, { request, clock, signal: control.signal }), clock, {
      onItem: (item, all) => { if (all.filter((i) => i.type === "event").length === 2) control.abort(); },
    });
    assert.deepEqual(ids(items), [1, 2]);
    assert.ok(!items.some((i) => i.type === "lost"));
    assert.equal(requests.length, 1);
    assert.deepEqual(clock.delays, []);
  });

  test("an already aborted signal makes no request", async () => {
    const { request, requests } = server([]);
    const control = new AbortController();
    control.abort();
    const clock = new FakeClock();
    assert.deepEqual(await drive(followReply(CONVERSATION, { request, clock, signal: control.signal }), clock), []);
    assert.equal(requests.length, 0);
  });

  test("leaving the loop early (break) cancels the open connection", async () => {
    let cancelled = false;
    const request = async () => new Response(new ReadableStream({
      start(controller) { controller.enqueue(new TextEncoder().encode(frame(1, "message.start", { message_id: "m1" }))); },
      cancel() { cancelled = true; },
    }), { status: 200 });
    for await (const item of followReply(CONVERSATION, { request, clock: new FakeClock() })) {
      if (item.type === "event") break;
    }
    await settle();
    assert.equal(cancelled, true);
  });
});

// --- sources: the passages a reply is based on -------------------------------------------------

const SOURCES = [
  { n: 1, kind: "file", id: "f1", title: "보고서.pdf", snippet: "17쪽의 사실", page: 17 },
  { n: 2, kind: "item", id: "42", title: "A note", snippet: "noted", page: null },
];

// A reply whose sources come right after its start, before the first delta (as the server sends).
function replyWithSources(messageId, tokens) {
  const [start, ...rest] = reply(messageId, tokens);
  const shifted = rest.map(([id, name, data]) => [`${messageId}:${seq(id) + 1}`, name, data]);
  return [start, [`${messageId}:2`, "sources", { message_id: messageId, sources: SOURCES }], ...shifted];
}

describe("one request per reply (sendForStream)", () => {
  const SENT = { conversation_id: CONVERSATION, user_message: { id: "u1" }, assistant_message: { id: "m1" } };
  const created = ["m1:0", "message.created", SENT];
  const posting = (scripts) => {
    const { request, requests } = server(scripts);
    const sends = [];
    const post = (path, options) => { sends.push({ path, method: options.method, body: options.body, accept: options.headers.Accept }); return request(path, options); };
    return { post, request, requests, sends };
  };

  test("the send's answer is the reply's stream: message.created, then every event, no other request", async () => {
    const events = reply("m1", 3);
    const { post, request, requests, sends } = posting([{ events: [created, ...events] }]);
    const answer = await sendForStream("/api/v1/conversations/c/messages", { content: "Hi" }, { request: post });
    assert.deepEqual(sends, [{ path: "/api/v1/conversations/c/messages", method: "POST", body: { content: "Hi" }, accept: "text/event-stream" }]);
    assert.deepEqual(answer.sent, SENT);
    assert.equal(answer.lastEventId, "m1:0");
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock, messageId: "m1", ...answer }), clock);
    assert.deepEqual(ids(items), [1, 2, 3, 4, 5]);
    assert.equal(texts(items), "t0 t1 t2 ");
    assert.equal(requests.length, 1); // the POST only
  });

  test("a drop of the send's stream resumes with GET /stream after the last event, once", async () => {
    const events = reply("m1", 6);
    const { post, request, requests } = posting([{ events: [created, ...events.slice(0, 3)], end: "drop" }, { events: events.slice(3) }]);
    const answer = await sendForStream("/api/v1/conversations/c/messages", { content: "Hi" }, { request: post });
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock, messageId: "m1", ...answer }), clock);
    assert.deepEqual(ids(items), events.map(([id]) => seq(id)));
    assert.deepEqual(requests.at(-1), { path: `/api/v1/conversations/${CONVERSATION}/stream?message_id=m1`, headers: { "Last-Event-ID": "m1:3" } });
  });

  test("a drop right after message.created resumes from the reply's first event", async () => {
    const events = reply("m1", 2);
    const { post, request, requests } = posting([{ events: [created], end: "drop" }, { events }]);
    const answer = await sendForStream("/p", {}, { request: post });
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock, messageId: "m1", ...answer }), clock);
    assert.deepEqual(ids(items), [1, 2, 3, 4]);
    assert.deepEqual(requests.at(-1).headers, { "Last-Event-ID": "m1:0" });
  });

  test("a JSON answer is returned as it is, with no stream to follow", async () => {
    const json = async () => new Response(JSON.stringify({ id: "c1" }), { status: 201, headers: { "Content-Type": "application/json" } });
    assert.deepEqual(await sendForStream("/api/v1/conversations", {}, { request: json }), { sent: { id: "c1" }, opened: null, lastEventId: null });
  });

  test("a refusal is thrown with the server's words; a stream without message.created is not trusted", async () => {
    const { post } = posting([{ status: 400, body: { detail: "Nope", code: "x" } }, { events: [], end: "drop" }]);
    await assert.rejects(sendForStream("/p", {}, { request: post }), (error) => error instanceof ApiError && error.status === 400 && error.message === "Nope");
    await assert.rejects(sendForStream("/p", {}, { request: post }), (error) => error instanceof ApiError && error.status === 0);
  });
});

describe("sources", () => {
  test("the sources event is passed through once, in its place before the first delta", async () => {
    const { request } = server([{ events: replyWithSources("m1", 2) }]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock }), clock);
    assert.deepEqual(items.filter((i) => i.type === "event").map((i) => i.name),
      ["message.start", "sources", "delta", "delta", "message.done"]);
    assert.deepEqual(items.find((i) => i.name === "sources").data.sources, SOURCES);
  });

  test("a drop before the sources: the resume (Last-Event-ID) receives them, once", async () => {
    const events = replyWithSources("m1", 3);
    const { request, requests } = server([
      { events: events.slice(0, 1), end: "drop" }, // only message.start got through
      { events: events.slice(1) }, // the server replays from event 2: the sources first
    ]);
    const clock = new FakeClock();
    const items = await drive(followReply(CONVERSATION, { request, clock }), clock);
    assert.deepEqual(requests.map((r) => r.headers), [{}, { "Last-Event-ID": "m1:1" }]);
    assert.equal(items.filter((i) => i.name === "sources").length, 1);
    assert.deepEqual(ids(items), events.map(([id]) => seq(id)));
  });

  test("replyFields: what each event changes on the message besides its text", () => {
    assert.deepEqual(replyFields("sources", { message_id: "m1", sources: SOURCES }), { sources: SOURCES });
    assert.deepEqual(replyFields("message.start", { message_id: "m1", model: "m" }), { status: "streaming" });
    assert.deepEqual(replyFields("delta", { message_id: "m1", text: "x" }), {});
    // A snapshot (a reply joined midway) carries the sources announced so far; [] means none yet
    // and must not wipe sources the message already shows.
    assert.deepEqual(replyFields("snapshot", { message_id: "m1", text: "t", seq: 4, sources: SOURCES }), { sources: SOURCES });
    assert.deepEqual(replyFields("snapshot", { message_id: "m1", text: "t", seq: 4, sources: [] }), {});
    assert.deepEqual(replyFields("error", { message_id: "m1", code: "upstream_error", message: "boom" }),
      { error: "boom", error_code: "upstream_error" });
    assert.deepEqual(replyFields("message.done", { message_id: "m1", status: "complete", finish_reason: "stop" }),
      { status: "complete", finish_reason: "stop" });
  });
});
