// files.js's rules without a browser: the composer's queue of attachments, when Send may go, what
// a file's error code means in words, sizes, the polling back-off, a collector item's file state.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import "./browser_globals.mjs";

import {
  FILE_ERRORS, MAX_ATTACHMENTS, addFiles, afterUpload, attachmentIds, explainFileError, formatSize, fromServer, imageWarning,
  itemFileState, newAttachment, pollDelay, sendBlocker, statusText,
} from "../src/files.js";

const file = (name, type, size = 1000) => ({ name, type, size });
let next = 0;
const key = () => ++next;
const VISION = { slug: "v", display_name: "Vision model", capabilities: ["vision"] };
const TEXT = { slug: "t", display_name: "Text model", capabilities: [] };

describe("the queue of attachments", () => {
  test("a new file is uploading; an image is known as one by its type", () => {
    const pdf = newAttachment(file("보고서.pdf", "application/pdf", 2048), 1);
    assert.equal(pdf.phase, "uploading");
    assert.equal(pdf.progress, 0);
    assert.equal(pdf.image, false);
    assert.equal(newAttachment(file("shot.png", "image/png"), 2).image, true);
    assert.equal(newAttachment(file("vector.svg", "image/svg+xml"), 3).image, false); // not sent as an image
  });

  test("at most MAX_ATTACHMENTS: the rest are refused and counted", () => {
    const first = addFiles([], Array.from({ length: 7 }, (_, i) => file(`f${i}.txt`, "text/plain")), key);
    assert.equal(first.list.length, 7);
    const second = addFiles(first.list, Array.from({ length: 5 }, (_, i) => file(`g${i}.txt`, "text/plain")), key);
    assert.equal(second.list.length, MAX_ATTACHMENTS);
    assert.equal(second.added.length, 3);
    assert.equal(second.refused, 2);
    assert.equal(new Set(second.list.map((a) => a.key)).size, MAX_ATTACHMENTS);
  });

  test("the server's answer to an upload: 201 gives the file's id and state; a refusal its code and words", () => {
    const a = newAttachment(file("a.pdf", "application/pdf"), 1);
    const processing = afterUpload(a, { status: 201, body: { id: "f1", status: "processing", error: "", pages: null } });
    assert.deepEqual([processing.id, processing.phase, processing.progress], ["f1", "processing", 1]);
    const image = afterUpload(a, { status: 201, body: { id: "f2", status: "ready", error: "", pages: null } });
    assert.equal(image.phase, "ready");
    const big = afterUpload(a, { status: 413, body: { detail: "Files are limited to 20 MB.", code: "file_too_large" } });
    assert.deepEqual([big.phase, big.error, big.detail], ["failed", "file_too_large", "Files are limited to 20 MB."]);
    const full = afterUpload(a, { status: 409, body: { detail: "Storage full.", code: "storage_quota_exceeded" } });
    assert.equal(full.error, "storage_quota_exceeded");
    // A proxy's 413 without JSON still says why.
    assert.equal(afterUpload(a, { status: 413, body: null }).error, "file_too_large");
    assert.equal(afterUpload(a, { status: 0, body: { code: "upload_failed" } }).phase, "failed");
  });

  test("polling: the file's row replaces the chip's state (ready with pages, failed with its reason)", () => {
    const a = afterUpload(newAttachment(file("a.pdf", "application/pdf"), 1), { status: 201, body: { id: "f1", status: "processing" } });
    const ready = fromServer(a, { id: "f1", status: "ready", error: "", pages: 30 });
    assert.equal(statusText(ready), "Ready · 30 pages");
    const failed = fromServer(a, { id: "f1", status: "failed", error: "no_text", error_detail: "No text.", pages: null });
    assert.equal(statusText(failed), FILE_ERRORS.no_text);
  });

  test("only files the server holds, and did not fail, are sent", () => {
    const list = [
      { id: "f1", phase: "ready" }, { id: "f2", phase: "processing" }, { id: null, phase: "uploading" }, { id: "f3", phase: "failed" },
    ];
    assert.deepEqual(attachmentIds(list), ["f1", "f2"]);
  });
});

describe("when Send may go", () => {
  const ready = (name, image = false) => ({ name, image, phase: "ready", id: name });
  test("nothing attached, or everything ready: yes", () => {
    assert.equal(sendBlocker([], TEXT), null);
    assert.equal(sendBlocker([ready("a.pdf")], TEXT), null);
  });
  test("a document still being read may go (the server waits for it)", () => {
    assert.equal(sendBlocker([{ name: "a.pdf", image: false, phase: "processing", id: "f" }], TEXT), null);
  });
  test("an upload under way: not yet", () => {
    assert.match(sendBlocker([{ name: "a.pdf", phase: "uploading" }], TEXT), /uploads to finish/);
  });
  test("a failed file must be removed first, and is named", () => {
    assert.match(sendBlocker([ready("a.pdf"), { name: "scan.pdf", phase: "failed" }], TEXT), /Remove “scan\.pdf”/);
  });
  test("an image for a model without vision is refused before sending, naming the model", () => {
    assert.match(sendBlocker([ready("shot.png", true)], TEXT), /^Text model cannot read images/);
    assert.equal(sendBlocker([ready("shot.png", true)], VISION), null);
    assert.equal(sendBlocker([ready("shot.png", true)], null), null); // unknown model: the server decides
    // Said as soon as the image is attached, not only on Send.
    assert.match(imageWarning([{ name: "shot.png", image: true, phase: "uploading" }], TEXT), /cannot read images/);
    assert.equal(imageWarning([ready("a.pdf")], TEXT), null);
  });
});

describe("a file's state in words", () => {
  test("every error code the server gives has a sentence; an unknown one falls back to the server's words", () => {
    for (const code of ["no_text", "too_many_pages", "unsupported_type", "file_too_large", "storage_quota_exceeded",
      "unreadable", "timeout", "too_large", "empty_file"]) {
      assert.ok(FILE_ERRORS[code], code);
      assert.equal(explainFileError(code, "server words"), FILE_ERRORS[code]);
    }
    assert.match(explainFileError("no_text"), /no text layer \(scanned\?\); text recognition is not supported/);
    assert.equal(explainFileError("something_new", "The server's own words."), "The server's own words.");
    assert.equal(explainFileError("something_new"), "This file could not be read (something_new).");
    assert.equal(explainFileError(null, ""), "This file could not be read.");
  });

  test("statusText for each phase", () => {
    assert.equal(statusText({ phase: "uploading" }), "Uploading…");
    assert.equal(statusText({ phase: "processing" }), "Reading…");
    assert.equal(statusText({ phase: "ready", pages: 1 }), "Ready · 1 page");
    assert.equal(statusText({ phase: "ready", pages: null }), "Ready");
    assert.equal(statusText({ phase: "failed", error: "too_many_pages" }), FILE_ERRORS.too_many_pages);
  });

  test("sizes", () => {
    assert.equal(formatSize(0), "0 B");
    assert.equal(formatSize(1023), "1023 B");
    assert.equal(formatSize(1536), "1.5 KB");
    assert.equal(formatSize(20 * 1024 * 1024), "20 MB");
    assert.equal(formatSize(undefined), "");
  });

  test("polling slows down to every 8 s", () => {
    assert.deepEqual([0, 1, 2, 10].map(pollDelay), [1000, 1500, 2250, 8000]);
  });

  test("a collector file item's extraction state; none for a note", () => {
    const row = { id: "f1", name: "a.pdf", status: "ready", error: "", error_detail: "", pages: 3 };
    assert.deepEqual(itemFileState({ kind: "file", file: row }), { phase: "ready", pages: 3, error: null, detail: "" });
    const failed = itemFileState({ kind: "file", file: { ...row, status: "failed", error: "no_text", pages: null } });
    assert.equal(statusText(failed), FILE_ERRORS.no_text);
    assert.equal(itemFileState({ kind: "note", file: null }), null);
    assert.equal(itemFileState({ kind: "file", file: null }), null); // stored before the files store
  });
});

describe("in Korean", () => {
  test("a chip's state, the reasons and the blockers follow the UI's language, plurals included", async () => {
    const { setLanguage } = await import("../src/i18n.js");
    setLanguage("ko", { remember: false });
    try {
      assert.equal(statusText({ phase: "ready", pages: 1 }), "준비됨 · 1페이지");
      assert.equal(statusText({ phase: "ready", pages: 30 }), "준비됨 · 30페이지");
      assert.equal(statusText({ phase: "processing" }), "읽는 중…");
      assert.match(FILE_ERRORS.no_text, /텍스트 레이어가 없습니다/);
      assert.equal(explainFileError("unreadable"), FILE_ERRORS.corrupt);
      assert.equal(explainFileError("something_new"), "이 파일을 읽을 수 없습니다(something_new).");
      assert.match(sendBlocker([{ name: "스캔.pdf", phase: "failed" }, { name: "b.pdf", phase: "failed" }], TEXT), /^‘스캔\.pdf’, ‘b\.pdf’ 파일은/);
      assert.match(imageWarning([{ name: "shot.png", image: true, phase: "ready" }], TEXT), /^Text model: 이미지를 읽을 수 없는 모델입니다/);
      assert.equal(formatSize(2048), "2.0KB");
    } finally {
      setLanguage("en", { remember: false });
    }
    assert.equal(statusText({ phase: "ready", pages: 2 }), "Ready · 2 pages");
    assert.match(sendBlocker([{ name: "a.pdf", phase: "failed" }, { name: "b.pdf", phase: "failed" }], TEXT), /they could not be used/);
  });
});
