// The composer's attachments, as a signal: each file is uploaded as soon as it is chosen, dropped or
// pasted, its chip following it (progress, then the server reading it, then ready or failed).
// The rules (what a state means, when Send may go) are files.js's; this holds the state and the
// browser's side: uploads under way, thumbnails (object URLs of the local files), polling.
import { signal } from "@preact/signals";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { addFiles, afterUpload, fromServer, MAX_ATTACHMENTS, pollDelay, statusText, uploadFile } from "../files.js";
import { announce, say } from "../ui/notices.js";

export const attachments = signal([]);
const uploads = new Map(); // key -> the AbortController of its upload
let keys = 0;

function update(key, change) {
  attachments.value = attachments.peek().map((a) => (a.key === key ? change(a) : a));
}
const held = (key) => attachments.peek().find((a) => a.key === key);

export function attach(files) {
  if (!files?.length) return;
  const { list, added, refused } = addFiles(attachments.peek(), files, () => ++keys);
  if (refused) say(t("composer.too_many_files", { max: MAX_ATTACHMENTS, count: refused }));
  const byKey = new Map(added.map((a, i) => [a.key, files[i]]));
  attachments.value = list.map((a) => (byKey.has(a.key) && a.image ? { ...a, thumb: URL.createObjectURL(byKey.get(a.key)) } : a));
  for (const [key, file] of byKey) upload(key, file);
}

async function upload(key, file) {
  const control = new AbortController();
  uploads.set(key, control);
  try {
    const answer = await uploadFile(file, {
      signal: control.signal,
      onProgress: (progress) => update(key, (a) => ({ ...a, progress })),
    });
    if (!held(key)) return;
    update(key, (a) => afterUpload(a, answer));
    const now = held(key);
    announce(t("composer.file_announce", { name: now.name, status: statusText(now) }));
  } catch (error) {
    if (error?.name === "AbortError" || !held(key)) return;
    update(key, (a) => ({ ...a, phase: "failed", error: null, detail: error.message }));
  } finally { uploads.delete(key); }
}

// While a chip's file is being read: ask again, more slowly each time, until it is ready or
// failed, or `signal` aborts (the chip went away).
export async function watchProcessing(key, signal) {
  for (let tries = 0; !signal.aborted; tries += 1) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, pollDelay(tries));
      signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
    });
    const current = held(key);
    if (signal.aborted || !current || current.phase !== "processing") return;
    try {
      const row = await api(`/api/v1/files/${current.id}`, { signal });
      if (signal.aborted || !held(key)) return;
      update(key, (a) => fromServer(a, row));
      if (row.status !== "processing") { announce(t("composer.file_announce", { name: current.name, status: statusText(held(key)) })); return; }
    } catch (error) {
      if (signal.aborted) return;
      if (error?.status === 404) { update(key, (a) => ({ ...a, phase: "failed", error: null, detail: t("files.deleted") })); return; }
      // A network hiccup: the next try may do.
    }
  }
}

function release(attachment) {
  uploads.get(attachment.key)?.abort();
  if (attachment.thumb) URL.revokeObjectURL(attachment.thumb);
}

export function removeAttachment(key) {
  const attachment = held(key);
  if (!attachment) return;
  release(attachment);
  attachments.value = attachments.peek().filter((a) => a.key !== key);
}

// After a send (the files belong to the message now), or on signing out.
export function clearAttachments() {
  attachments.peek().forEach(release);
  attachments.value = [];
}
