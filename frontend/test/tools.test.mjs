// tools.js and stream.js's part in tools, without a browser: a reply's calls built from its events
// (and replaced by a snapshot), where each shows in the reply's text, what is shown of a call,
// which web sources are links, which of a chat's tools may be kept.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import "./browser_globals.mjs";

import { setLanguage } from "../src/i18n.js";
import { replyFields } from "../src/stream.js";
import {
  callName, callStatus, canUseTools, durationWords, hostOf, prettyArguments, replyPieces, resultShown, shownCalls, statusWords,
  toolsAvailable, utf16Index, webLink, withNotice, withToolCall, withToolResult,
} from "../src/tools.js";

setLanguage("en", { remember: false });

const CALL = { message_id: "m1", id: "call_0_weather__forecast", server: "weather", name: "forecast", arguments: { city: "Seoul" }, offset: 12 };
const RESULT = { message_id: "m1", id: CALL.id, status: "ok", result: "Sunny, 12°C", error: "", truncated: false, duration_ms: 34 };
const call = (id, offset, status = "ok") => ({ id, server: "weather", name: "forecast", arguments: {}, offset, status, result: "r", error: "" });

describe("a reply's calls, from its events", () => {
  test("tool.call adds a running call; tool.result ends it", () => {
    const started = replyFields("tool.call", CALL, { tool_calls: [] });
    assert.deepEqual(started.tool_calls, [{
      id: CALL.id, server: "weather", name: "forecast", arguments: { city: "Seoul" }, offset: 12,
      status: "running", result: null, error: "", truncated: false, duration_ms: null,
    }]);
    const ended = replyFields("tool.result", RESULT, started);
    assert.equal(ended.tool_calls.length, 1);
    assert.deepEqual(
      [ended.tool_calls[0].status, ended.tool_calls[0].result, ended.tool_calls[0].duration_ms, ended.tool_calls[0].arguments],
      ["ok", "Sunny, 12°C", 34, { city: "Seoul" }],
    );
  });

  test("calls keep their order; a call seen again is the same call; a result for an unknown call changes nothing", () => {
    let calls = withToolCall(undefined, CALL);
    calls = withToolCall(calls, { ...CALL, id: "call_1", name: "wait", offset: 12 });
    calls = withToolResult(calls, RESULT);
    calls = withToolCall(calls, CALL); // replayed: keeps its result
    assert.deepEqual(calls.map((c) => [c.id, c.status]), [[CALL.id, "ok"], ["call_1", "running"]]);
    assert.deepEqual(withToolResult(calls, { ...RESULT, id: "nobody" }), calls);
    const timedOut = withToolResult(calls, { id: "call_1", status: "timeout", result: null, error: "took too long", duration_ms: 20000 });
    assert.deepEqual([timedOut[1].status, timedOut[1].error, timedOut[1].result], ["timeout", "took too long", null]);
  });

  test("a snapshot's tool_calls and notices are the whole list; [] means none yet", () => {
    const calls = [{ ...call("a", 3), status: "running", result: null }];
    const notices = [{ code: "tool_server_unavailable", message: "Weather is down." }];
    assert.deepEqual(replyFields("snapshot", { message_id: "m1", text: "abc", sources: [], tool_calls: calls, notices }),
      { tool_calls: calls, notices });
    assert.deepEqual(replyFields("snapshot", { message_id: "m1", text: "abc", sources: [], tool_calls: [], notices: [] }), {});
  });

  test("notice adds a note once", () => {
    const data = { message_id: "m1", code: "tool_rounds_exhausted", message: "The tools were called too many times." };
    const once = replyFields("notice", data, {}).notices;
    assert.deepEqual(once, [{ code: data.code, message: data.message }]);
    assert.deepEqual(withNotice(once, data), once);
  });

  test("a /v1 request's own calls (no status) are not shown", () => {
    const openai = { id: "call_x", type: "function", function: { name: "f", arguments: "{}" } };
    assert.deepEqual(shownCalls([openai, call("a", 0)]).map((c) => c.id), ["a"]);
    assert.deepEqual(shownCalls(null), []);
    assert.deepEqual(replyPieces("Hello", [openai]), [{ kind: "text", text: "Hello", key: "text-0" }]);
  });
});

describe("where calls show in the reply", () => {
  test("the text is cut at each call's offset; calls at one place are one group", () => {
    const pieces = replyPieces("Let me check.The weather is sunny.", [call("a", 13), call("b", 13), call("c", 34)]);
    assert.deepEqual(pieces.map((p) => (p.kind === "text" ? p.text : p.calls.map((c) => c.id).join("+"))),
      ["Let me check.", "a+b", "The weather is sunny.", "c"]);
    assert.deepEqual(pieces.map((p) => p.key), ["text-0", "calls-a", "text-1", "calls-c"]);
  });

  test("a call before any text, and an offset past the text painted so far (clamped to its end)", () => {
    assert.deepEqual(replyPieces("", [call("a", 0)]).map((p) => p.kind), ["calls"]);
    assert.deepEqual(replyPieces("Abc", [call("a", 50)]).map((p) => p.kind), ["text", "calls"]);
    assert.deepEqual(replyPieces("", []), []);
  });

  test("the keys of pieces already shown stay as the reply grows", () => {
    const before = replyPieces("One.", [call("a", 4)]).map((p) => p.key);
    const after = replyPieces("One.Two.", [call("a", 4), call("b", 8)]).map((p) => p.key);
    assert.deepEqual(after.slice(0, before.length), before);
  });

  test("offsets count characters as the server does (code points), not UTF-16 units", () => {
    const text = "😀😀 날씨는 맑음";
    assert.equal(utf16Index(text, 2), 4);
    assert.equal(utf16Index(text, 3), 5);
    assert.equal(utf16Index(text, 999), text.length);
    assert.deepEqual(replyPieces(text, [call("a", 3)])[0].text, "😀😀 ");
  });
});

describe("a call as shown", () => {
  test("its name, its state and duration in words", () => {
    assert.equal(callName({ server: "weather", name: "forecast" }), "weather / forecast");
    assert.equal(callName({ server: "web_search", name: "web_search" }), "Web search");
    assert.equal(statusWords("ok"), "Done");
    assert.equal(statusWords("timeout"), "Timed out");
    assert.equal(statusWords("something_new"), "something_new");
    assert.equal(durationWords(34), "34 ms");
    assert.equal(durationWords(2140), "2.1 s");
    assert.equal(durationWords(null), "");
    setLanguage("ko", { remember: false });
    try {
      assert.equal(statusWords("error"), "실패");
      assert.equal(callName({ server: "web_search", name: "web_search" }), "웹 검색");
    } finally { setLanguage("en", { remember: false }); }
  });

  test("a call left running in a reply that has ended did not finish", () => {
    assert.equal(callStatus({ status: "running" }, true), "running");
    assert.equal(callStatus({ status: "running" }, false), "interrupted");
    assert.equal(callStatus({ status: "ok" }, false), "ok");
  });

  test("its arguments indented; its result as text, hidden, or left to the error", () => {
    assert.equal(prettyArguments({ city: "Seoul" }), '{\n  "city": "Seoul"\n}');
    assert.equal(prettyArguments('{"a":1}'), '{\n  "a": 1\n}');
    assert.equal(prettyArguments("not json"), "not json");
    assert.equal(prettyArguments(null), "{}");
    assert.equal(resultShown({ status: "running", result: null }), "");
    assert.equal(resultShown({ status: "ok", result: "<b>x</b>" }), "text");
    assert.equal(resultShown({ status: "ok", result: "" }), "text");
    assert.equal(resultShown({ status: "ok", result: null }), "hidden"); // a share hiding a private server's
    assert.equal(resultShown({ status: "timeout", result: "", error: "took too long" }), "");
    assert.equal(resultShown({ status: "error", result: "partial", error: "boom" }), "text");
  });
});

describe("web sources and a chat's tools", () => {
  test("only http and https addresses are links; the host is the site's name", () => {
    assert.equal(webLink("https://www.example.com/a?b=1"), "https://www.example.com/a?b=1");
    assert.equal(webLink("http://example.org"), "http://example.org/");
    for (const bad of ["javascript:alert(1)", "data:text/html,x", "ftp://example.com/", "/relative", "", null, 3]) {
      assert.equal(webLink(bad), null, String(bad));
    }
    assert.equal(hostOf("https://www.example.com/a"), "example.com");
    assert.equal(hostOf("https://news.example.co.kr/"), "news.example.co.kr");
    assert.equal(hostOf("javascript:alert(1)"), "");
  });

  test("a chat keeps only the tools still offered; a model calls tools with the capability", () => {
    const listing = [{ name: "weather" }, { name: "web_search" }];
    assert.deepEqual(toolsAvailable(["gone", "web_search", "weather"], listing), ["web_search", "weather"]);
    assert.deepEqual(toolsAvailable(undefined, listing), []);
    assert.deepEqual(toolsAvailable(["weather"], null), []);
    assert.equal(canUseTools({ capabilities: ["vision", "tools"] }), true);
    assert.equal(canUseTools({ capabilities: [] }), false);
    assert.equal(canUseTools(null), false);
  });
});
