// Files attached to a message: the upload (XMLHttpRequest, for its progress events, with api.js's
// token and renewal), what a file's state means in words, and the composer's queue of attachments
// as plain values. No DOM and no signals here, so node --test drives the rules.
import { authorized } from "./api.js";
import { lang, t } from "./i18n.js";

export const MAX_ATTACHMENTS = 10; // the server's limit per message
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
export const isImage = (type) => IMAGE_TYPES.includes(type);

// Why a file cannot be used, in words a person can act on (in the UI's language), by the code the
// server gives (an upload's refusal or an extraction's failure). An unknown code falls back to the
// server's own words, then to a generic sentence naming the code.
const ERROR_KEYS = {
  no_text: "no_text", too_many_pages: "too_many_pages", unsupported_type: "unsupported_type",
  file_too_large: "file_too_large", storage_quota_exceeded: "storage_quota_exceeded", corrupt: "corrupt",
  unreadable: "corrupt", too_large: "too_large", timeout: "timeout", empty_file: "empty_file",
  upload_failed: "upload_failed", too_many_files_processing: "too_many_files_processing",
};
// code -> its sentence, read at the moment it is asked for (the language may have changed since).
export const FILE_ERRORS = Object.defineProperties({}, Object.fromEntries(Object.entries(ERROR_KEYS).map(
  ([code, key]) => [code, { enumerable: true, get: () => t(`files.error_${key}`) }])));

export function explainFileError(code, detail = "") {
  return FILE_ERRORS[code] || detail || (code ? t("files.error_code", { code }) : t("files.error_unknown"));
}

export function formatSize(bytes) {
  if (!(bytes >= 0)) return "";
  if (bytes < 1024) return t("files.size_bytes", { n: bytes });
  const units = ["kb", "mb", "gb"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  const digits = value < 10 ? 1 : 0;
  const n = new Intl.NumberFormat(lang.value, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false }).format(value);
  return t(`files.size_${units[unit]}`, { n });
}

// A chip's state: phase "uploading" (progress 0..1), then the server's "processing" | "ready" |
// "failed" (error: its code; detail: the server's words).
export function newAttachment(file, key) {
  return {
    key, name: file.name || "file", size: file.size, type: file.type || "", image: isImage(file.type),
    phase: "uploading", progress: 0, id: null, error: null, detail: "", pages: null, thumb: null,
  };
}

// The server's row of the file (POST /files or GET /files/{id}) onto its chip.
export const fromServer = (attachment, row) => ({
  ...attachment, id: row.id, phase: row.status, progress: 1,
  error: row.error || null, detail: row.error_detail || "", pages: row.pages ?? null,
});

// The answer to an upload: 201 with the row, or a refusal {detail, code}.
export function afterUpload(attachment, { status, body }) {
  if (status === 201 || status === 200) return fromServer(attachment, body);
  const code = body?.code || (status === 413 ? "file_too_large" : status === 415 ? "unsupported_type" : "");
  return { ...attachment, phase: "failed", error: code || null, detail: body?.detail || t("files.error_status", { status }) };
}

// Files added to the queue: those beyond MAX_ATTACHMENTS are refused (answered as `refused`).
export function addFiles(list, files, nextKey) {
  const room = Math.max(0, MAX_ATTACHMENTS - list.length);
  const taken = [...files].slice(0, room).map((file) => newAttachment(file, nextKey()));
  return { list: [...list, ...taken], added: taken, refused: files.length - taken.length };
}

export const attachmentIds = (list) => list.filter((a) => a.id && a.phase !== "failed").map((a) => a.id);

// Why the message cannot be sent yet (null: it can). Documents still being read may go: the
// server waits for them. `model` is the chosen model's catalog row ({display_name, capabilities}).
export function sendBlocker(list, model) {
  if (list.some((a) => a.phase === "uploading")) return t("files.wait_uploads");
  const failed = list.filter((a) => a.phase === "failed");
  if (failed.length) {
    const names = failed.map((a) => t("files.quoted", { name: a.name })).join(t("files.list_separator"));
    return t("files.remove_failed", { names, count: failed.length });
  }
  return imageWarning(list, model);
}

// Images attached for a model whose catalog row lacks `vision`: said as soon as it is so (the
// composer shows it under the chips), and again if Send is pressed.
export function imageWarning(list, model) {
  if (model && !(model.capabilities ?? []).includes("vision") && list.some((a) => a.image)) {
    return t("files.no_vision", { model: model.display_name || model.slug });
  }
  return null;
}

// Polling a file being read: 1 s, then slower, at most every 8 s.
export const pollDelay = (tries) => Math.min(1000 * 1.5 ** tries, 8000);

// A file's status in words, for a chip or a collector row.
export function statusText({ phase, pages, error, detail }) {
  if (phase === "uploading") return t("files.uploading");
  if (phase === "processing") return t("files.reading");
  if (phase === "failed") return explainFileError(error, detail);
  if (phase === "ready") return pages ? t("files.ready_pages", { count: pages }) : t("files.ready");
  return "";
}

// A collector file item's extraction, as a chip's state: its `file` is the store's row (status,
// error, error_detail, pages). Null for a note, a link, or a file from before the store.
export function itemFileState(item) {
  const file = item.file;
  if (item.kind !== "file" || !file?.status) return null;
  return { phase: file.status, pages: file.pages ?? null, error: file.error || null, detail: file.error_detail || "" };
}

// POST /api/v1/files with the bearer token (renewed once on a 401, as api.js's requests are),
// reporting progress 0..1; answers {status, body}. Aborting `signal` rejects with an AbortError.
export function uploadFile(file, { onProgress, signal } = {}) {
  return authorized((token) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/files");
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.responseType = "json"; // null when the answer is not JSON
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress?.(event.loaded / event.total); };
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
    xhr.onerror = () => resolve({ status: 0, body: { code: "upload_failed" } });
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    if (signal?.aborted) { reject(new DOMException("aborted", "AbortError")); return; }
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append("file", file, file.name || "file");
    xhr.send(form);
  }));
}
