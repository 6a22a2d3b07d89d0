// Tools a reply may call (an MCP server the operator registered, the built-in web search): the
// calls a reply made as its events and its saved JSON say, where each goes in the reply's text,
// what its state means in words, and a reply's web sources as links. No DOM and no signals here,
// so node --test drives the rules (chat/tools_view.jsx shows them).
import { t } from "./i18n.js";

export const WEB_SEARCH = "web_search";

// A call the server ran has a `status`; a /v1 request's own calls (OpenAI's form only) are not
// the chat's to show.
export const shownCalls = (calls) => (Array.isArray(calls) ? calls.filter((call) => call?.status) : []);

// `tool.call`: a call starts (running). The same id again (a snapshot's entry, then its event
// replayed) is the same call.
export function withToolCall(calls, data) {
  const entry = {
    id: data.id, server: data.server, name: data.name, arguments: data.arguments ?? {}, offset: data.offset ?? 0,
    status: "running", result: null, error: "", truncated: false, duration_ms: null,
  };
  const list = Array.isArray(calls) ? calls : [];
  return list.some((call) => call.id === data.id)
    ? list.map((call) => (call.id === data.id ? { ...entry, ...call } : call))
    : [...list, entry];
}

// `tool.result`: the call ends (ok, error, timeout, stopped...). A result for a call never seen
// (it began before a snapshot that lacks it) is dropped: there is nothing to attach it to.
export function withToolResult(calls, data) {
  const list = Array.isArray(calls) ? calls : [];
  return list.map((call) => (call.id === data.id ? {
    ...call, status: data.status, result: data.result ?? null, error: data.error ?? "",
    truncated: Boolean(data.truncated), duration_ms: data.duration_ms ?? null,
  } : call));
}

// `notice`: something the reader should know about how the reply was made (once each).
export function withNotice(notices, data) {
  const list = Array.isArray(notices) ? notices : [];
  const notice = { code: data.code, message: data.message };
  return list.some((n) => n.code === notice.code && n.message === notice.message) ? list : [...list, notice];
}

// The server counts a call's offset in characters (code points); a JS string in UTF-16 units.
// Clamped to the text: the call's text may not be painted yet.
export function utf16Index(text, codePoints) {
  let index = 0;
  let seen = 0;
  const wanted = Math.max(0, Number(codePoints) || 0);
  while (index < text.length && seen < wanted) {
    const code = text.codePointAt(index);
    index += code > 0xffff ? 2 : 1;
    seen += 1;
  }
  return index;
}

/**
 * A reply's text cut where its calls happened: `[{kind: "text", text, key}, {kind: "calls",
 * calls, key}, ...]` in reading order. Calls at the same place are one group; a text piece is
 * left out when empty. Keys stay the same while the reply grows (a piece is not remade by a delta).
 */
export function replyPieces(text, calls) {
  const shown = shownCalls(calls);
  const content = text ?? "";
  if (!shown.length) return content ? [{ kind: "text", text: content, key: "text-0" }] : [];
  const groups = [];
  for (const call of shown) {
    const at = utf16Index(content, call.offset);
    const group = groups.find((g) => g.at === at);
    if (group) group.calls.push(call);
    else groups.push({ at, calls: [call] });
  }
  groups.sort((a, b) => a.at - b.at); // stable: calls keep their order within a place
  const pieces = [];
  let from = 0;
  groups.forEach((group, i) => {
    if (group.at > from) pieces.push({ kind: "text", text: content.slice(from, group.at), key: `text-${i}` });
    pieces.push({ kind: "calls", calls: group.calls, key: `calls-${group.calls[0].id}` });
    from = group.at;
  });
  if (content.length > from) pieces.push({ kind: "text", text: content.slice(from), key: `text-${groups.length}` });
  return pieces;
}

// What a call is named on screen: "server / tool", or "Web search" for the built-in.
export function callName(call) {
  if (call.server === WEB_SEARCH && (!call.name || call.name === WEB_SEARCH)) return t("tools.web_search");
  return call.server && call.name && call.server !== call.name ? `${call.server} / ${call.name}` : call.name || call.server || "";
}

const STATUS_KEYS = {
  running: "tools.status_running", ok: "tools.status_ok", error: "tools.status_error", timeout: "tools.status_timeout",
  stopped: "tools.status_stopped", interrupted: "tools.status_interrupted", refused: "tools.status_refused",
};
export const statusWords = (status) => (STATUS_KEYS[status] ? t(STATUS_KEYS[status]) : String(status ?? ""));
// A call still "running" in a reply that has ended (its end was not seen: a crash, a drop) did not
// finish.
export const callStatus = (call, live) => (call.status === "running" && !live ? "interrupted" : call.status);
export const callFailed = (status) => ["error", "timeout", "interrupted", "refused"].includes(status);

// How a call's result shows: "text" (a failed call's only when it has some), "hidden" (a finished
// call whose result was not kept: a share hides a private server's), or "" (none yet, or a failed
// call's error says it all).
export function resultShown(call) {
  if (call.status === "running") return "";
  const text = typeof call.result === "string";
  if (text) return call.result || !call.error ? "text" : "";
  return call.status === "ok" ? "hidden" : "";
}

// A call's arguments as the model gave them, indented.
export function prettyArguments(args) {
  if (args === undefined || args === null) return "{}";
  if (typeof args === "string") {
    try { return JSON.stringify(JSON.parse(args), null, 2); } catch { return args; }
  }
  return JSON.stringify(args, null, 2);
}

// A duration in words: "340 ms", "2.1 s".
export function durationWords(ms) {
  if (typeof ms !== "number" || !(ms >= 0)) return "";
  return ms < 1000 ? t("tools.duration_ms", { n: Math.round(ms) }) : t("tools.duration_s", { n: (ms / 1000).toFixed(1) });
}

// A web source's address, if it is one a link may go to (http or https only); else null.
export function webLink(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch { return null; }
}

// The site a web source is on, as a reader knows it ("example.com").
export function hostOf(url) {
  const link = webLink(url);
  return link ? new URL(link).hostname.replace(/^www\./, "") : "";
}

// Which of the tools a chat has on the user may still enable (a server removed from their plan,
// or web search switched off, is left out: the server would refuse it).
export const toolsAvailable = (chosen, listing) => (chosen ?? []).filter((name) => (listing ?? []).some((tool) => tool.name === name));

// Whether a model (its catalog row) can call tools.
export const canUseTools = (model) => Boolean(model && (model.capabilities ?? []).includes("tools"));
