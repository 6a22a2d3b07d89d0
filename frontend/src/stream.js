// Following a reply as it is generated: GET /conversations/{id}/stream (Server-Sent Events), resumed
// after every drop with Last-Event-ID so no event is seen twice or missed. No DOM and no page state:
// the network, the clock and the "back online" signal are parameters, so node --test drives it.
import { ApiError, SignedOut, problem, request as authorizedRequest, sseEvents } from "./api.js";
import { t } from "./i18n.js";
import { withNotice, withToolCall, withToolResult } from "./tools.js";

export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_MAX_MS = 8000;
// The reply goes on being generated on the server, so waiting loses nothing; it only costs latency.
export const backoff = (failures) => Math.min(BACKOFF_FIRST_MS * 2 ** failures, BACKOFF_MAX_MS);

// Errors that another try cannot mend: the request itself is refused (404, 403...), not the network.
const final = (error) => error instanceof SignedOut
  || (error?.status >= 400 && error.status < 500 && error.status !== 429);

/**
 * Follows the reply of conversation `conversationId` until its `message.done`, yielding:
 * - `{type: "open"}`: a connection was answered (a "reconnecting" notice can go);
 * - `{type: "event", name, id, data}`: one event of the reply (`message.start`, `snapshot`,
 *   `sources`, `delta`, `tool.call`, `tool.result`, `notice`, `error`, `message.done`, and any
 *   other the server adds), each exactly once, in order; the generator ends after `message.done`;
 * - `{type: "lost", error, retryIn}`: the connection failed; another is tried in `retryIn` ms, or
 *   as soon as `online` fires `online`;
 * - `{type: "drift"}`, then the end: a resume met another reply's events (a message sent from
 *   elsewhere while we were away), or two connections in a row closed without an event (the reply
 *   ended beyond what we saw). Our event ids mean nothing any more: the caller reloads the conversation from the server.
 * Aborting `signal` ends it quietly; a refusal (4xx but 429, SignedOut) is thrown.
 *
 * `messageId` is the reply expected (asked for with `?message_id=`; events of another one are
 * drift); `lastEventId` (`<message id>:<seq>`, as the server numbers events) resumes after that
 * event. `opened`: the events of a connection already answered (`sendForStream`'s), read first;
 * after a drop the rest comes from GET /stream. `request(path, {headers, signal})` answers a fetch
 * Response (api.js's bearer-token request by default); `clock` has setTimeout/clearTimeout;
 * `online` is an EventTarget (the window).
 */
export async function* followReply(conversationId, {
  lastEventId = null,
  messageId = null,
  opened = null,
  signal,
  request = authorizedRequest,
  clock = globalThis,
  online = globalThis,
} = {}) {
  let followed = messageId; // the reply our event ids belong to
  let failures = 0;
  let emptyEnds = 0;
  let first = opened;
  while (!signal?.aborted) {
    let events = 0;
    try {
      let source = first;
      first = null;
      if (source === null) {
        // After a drop, resume right after the last event seen: the server replays the rest once.
        // Event ids are `<message id>:<seq>` (a bare number from an older server): sent back as they came.
        const headers = lastEventId !== null ? { "Last-Event-ID": String(lastEventId) } : {};
        // The reply known (given, or met in a first connection): exactly that one, whichever
        // branch the chat shows now.
        const path = `/api/v1/conversations/${conversationId}/stream`;
        const url = followed !== null ? `${path}?message_id=${encodeURIComponent(followed)}` : path;
        const response = await request(url, { headers, signal });
        if (!response.ok) throw await problem(response);
        yield { type: "open" };
        source = sseEvents(response.body);
      }
      for await (const event of source) {
        if (signal?.aborted) return; // frames still buffered from a stream given up
        if (followed !== null && event.data?.message_id !== followed) { yield { type: "drift" }; return; }
        followed = event.data?.message_id ?? followed;
        events += 1;
        failures = 0;
        if (event.id !== null) lastEventId = event.id;
        yield { type: "event", name: event.event, id: event.id, data: event.data };
        if (event.event === "message.done") return;
      }
      // Answered and closed twice without a word (a resume after the reply ended beyond the ids we
      // saw): reload rather than ask again for ever.
      if (events) emptyEnds = 0;
      else if (++emptyEnds >= 2) { yield { type: "drift" }; return; }
    } catch (error) {
      if (signal?.aborted) return;
      if (final(error)) throw error;
      yield { type: "lost", error, retryIn: backoff(failures) };
    }
    if (signal?.aborted) return;
    await pause(backoff(failures), { clock, online, signal });
    failures += 1;
  }
}

/**
 * One request per reply: POSTs `body` to `path` (a send, a chat's first message, a regenerate, an
 * edit) asking for the reply's own stream. Answers `{sent, opened, lastEventId}`: `sent` what the
 * JSON answer says (the first event, `message.created`: the messages made, `conversation_id`, and
 * `conversation` for a new chat), `opened` the rest of that stream and `lastEventId` the id to
 * resume after, both for `followReply`. A JSON answer (a chat started without a message, or a
 * server without the one-request path) gives `opened: null`: follow with GET /stream. A refusal
 * is thrown with the server's words; so is a drop before `message.created` (never sent again: the
 * message may have been made).
 */
export async function sendForStream(path, body, { request = authorizedRequest, signal } = {}) {
  const response = await request(path, { method: "POST", body, headers: { Accept: "text/event-stream" }, signal });
  if (!response.ok) throw await problem(response);
  if (!response.headers.get("Content-Type")?.startsWith("text/event-stream")) {
    return { sent: await response.json(), opened: null, lastEventId: null };
  }
  const opened = sseEvents(response.body);
  let created;
  try { created = await opened.next(); } catch { created = { done: true }; }
  if (created.done || created.value.event !== "message.created") {
    opened.return().catch(() => {});
    throw new ApiError(t("chat.send_unconfirmed"), 0, null);
  }
  return { sent: created.value.data, opened, lastEventId: created.value.id };
}

// Resolves after `ms`, when the browser comes back online, or when `signal` aborts.
function pause(ms, { clock, online, signal }) {
  return new Promise((resolve) => {
    let timer = null;
    const done = () => {
      clock.clearTimeout(timer);
      online?.removeEventListener?.("online", done);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    timer = clock.setTimeout(done, ms);
    online?.addEventListener?.("online", done);
    signal?.addEventListener("abort", done);
  });
}

/**
 * What an event of a reply changes on the message, besides its text (session.js paints the text
 * itself, throttled): its status, its error, its sources, its tool calls and notices. `sources`
 * arrives as its own event before the first delta (and again, the whole list, when a web search
 * adds some); a snapshot (a reply joined midway) and `message.done` may carry them too.
 * `tool.call`, `tool.result` and `notice` add to what `current` (the message as shown) has; a
 * snapshot's `tool_calls` and `notices` are the reply's whole list so far. Answers {} for an
 * event that changes none of these.
 */
export function replyFields(name, data, current = {}) {
  const sources = Array.isArray(data?.sources) ? { sources: data.sources } : {};
  switch (name) {
    case "message.start": return { status: "streaming" };
    case "sources": return sources;
    case "snapshot": return { // [] only means "none yet"
      ...(data.sources?.length ? sources : {}),
      ...(data.tool_calls?.length ? { tool_calls: data.tool_calls } : {}),
      ...(data.notices?.length ? { notices: data.notices } : {}),
    };
    case "tool.call": return { tool_calls: withToolCall(current.tool_calls, data) };
    case "tool.result": return { tool_calls: withToolResult(current.tool_calls, data) };
    case "notice": return { notices: withNotice(current.notices, data) };
    case "error": return { error: data.message, error_code: data.code };
    case "message.done": return { status: data.status, finish_reason: data.finish_reason, ...sources };
    default: return {};
  }
}
