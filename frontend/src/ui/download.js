// Files behind the bearer token: an <a href> or <img src> cannot send it, so they are fetched with
// it and handed to the browser as a local copy (an object URL).
import { problem, request } from "../api.js";
import { say } from "./notices.js";

// The file name of a Content-Disposition header (RFC 6266: filename*=UTF-8''... wins over filename=).
export function attachmentName(header) {
  const encoded = /filename\*\s*=\s*[^']*'[^']*'([^;]+)/i.exec(header || "");
  if (encoded) { try { return decodeURIComponent(encoded[1].trim()); } catch { /* malformed: the plain one */ } }
  return /filename\s*=\s*"?([^";]+)"?/i.exec(header || "")?.[1] ?? null;
}

// Saves the file at `path` (a same-origin API path, its query kept) under `name`, by default the
// name the server gives it.
export async function download(path, name) {
  try {
    const url = new URL(path, location.origin);
    const r = await request(url.pathname + url.search);
    if (!r.ok) throw await problem(r);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await r.blob());
    link.download = name || attachmentName(r.headers.get("Content-Disposition")) || "download";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) { say(error.message); }
}

// An object URL of the file at `path`, typed `type` (the server sends it as an attachment); the
// caller revokes it. Null when it cannot be fetched.
export async function objectUrl(path, type, signal) {
  try {
    const r = await request(path, { signal });
    if (!r.ok) return null;
    const blob = await r.blob();
    return URL.createObjectURL(type ? new Blob([blob], { type }) : blob);
  } catch { return null; }
}
