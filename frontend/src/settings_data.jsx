// Settings › Data controls: import a ChatGPT export (the upload, then the import job followed to its
// counts and per-conversation errors), export all my data (queued, then a download link), delete my
// account. The jobs are followed here at module level, not by the panel: closing Settings does not
// lose an import under way, and the sidebar still refreshes when it ends. Also a chat's Export items.
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, authorized, forget, problem } from "./api.js";
import { loadConversations } from "./conversations.js";
import { lang, t } from "./i18n.js";
import { user } from "./state.js";
import { download } from "./ui/download.js";

const POLL_MS = 1000;
const FINISHED = ["done", "failed", "expired"];
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const latest = async (path) => { const body = await api(path); return (body.results ?? body)[0] ?? null; };

// What the panel shows of the latest import: {key, owner, name, row (as GET /imports/{id} answers
// it; null while uploading), sent (0..1 of the upload), error}; of the latest export: {key, owner,
// row (as GET /user/exports/{id} answers it; null while asking), error}.
const importJob = signal(null);
const exportJob = signal(null);
const following = new Set(); // the jobs polled right now (a panel opened twice must not poll twice)

// A job shown starts with a key of its own; what its polling learns later lands only while that job
// is still the one shown (not after another started, or after another user signed in in this tab).
let keys = 0;
function begin(target, fields) {
  target.value = { key: ++keys, owner: user.value?.id, error: "", ...fields };
  return target.value.key;
}
function patch(target, key, fields) {
  if (target.value?.key === key) target.value = { ...target.value, ...fields };
}

// The job shown, if it is this account's (another may have signed in since, in this tab).
const mine = (target) => (target.value?.owner === user.value?.id ? target.value : null);

async function follow(path, row, onRow) {
  if (following.has(row.id)) return row;
  following.add(row.id);
  try {
    while (!FINISHED.includes(row.status)) {
      await sleep(POLL_MS);
      row = await api(`${path}/${row.id}`);
      onRow(row);
    }
    return row;
  } finally { following.delete(row.id); }
}

async function followImport(row, key = begin(importJob, { name: row.file_name, row })) {
  patch(importJob, key, { name: row.file_name, row });
  try {
    await follow("/api/v1/imports", row, (next) => patch(importJob, key, { row: next }));
  } catch (error) {
    patch(importJob, key, { error: error.message });
  }
  // A failed import keeps what came in before it failed: the sidebar shows it either way.
  loadConversations();
}

// POST the file with the bearer token (renewed once on a 401), over XMLHttpRequest for its upload
// progress (0..1): a ChatGPT export can be hundreds of megabytes. Answers {status, body}.
function upload(path, file, onProgress) {
  return authorized((token) => new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Accept-Language", lang.value);
    xhr.responseType = "json"; // null when the answer is not JSON
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
    xhr.onerror = () => resolve({ status: 0, body: null });
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  }));
}

async function startImport(file) {
  const key = begin(importJob, { name: file.name, row: null, sent: 0 });
  try {
    const { status, body } = await upload("/api/v1/imports", file, (sent) => patch(importJob, key, { sent }));
    if (status === 0) throw new Error(t("data.upload_failed"));
    // The refusal in the server's words, read as api.js reads any answer.
    if (status !== 202) throw await problem(new Response(body === null ? null : JSON.stringify(body), { status }));
    await followImport(body, key);
  } catch (error) {
    patch(importJob, key, { error: error.message });
  }
}

async function followExport(row, key = begin(exportJob, { row })) {
  patch(exportJob, key, { row });
  try {
    await follow("/api/v1/user/exports", row, (next) => patch(exportJob, key, { row: next }));
  } catch (error) {
    patch(exportJob, key, { error: error.message });
  }
}

async function startExport() {
  const key = begin(exportJob, { row: null });
  try {
    await followExport(await api("/api/v1/user/export", { method: "POST" }), key);
  } catch (error) {
    patch(exportJob, key, { error: error.message });
  }
}

const when = (iso) => new Intl.DateTimeFormat(lang.value, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));

// 1536 -> "1.5 KB" (KB, MB and GB are written so in Korean too; bytes are words).
function size(bytes) {
  if (bytes < 1024) return t("data.size_bytes", { count: bytes });
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${new Intl.NumberFormat(lang.value, { maximumFractionDigits: 1 }).format(value)} ${units[unit]}`;
}

const Alert = ({ children }) => <p class="dialog-error" role="alert">{children}</p>;

function ImportStatus({ job }) {
  const { name, row, error } = job;
  if (error) return <Alert>{error}</Alert>;
  if (!row) {
    const percent = new Intl.NumberFormat(lang.value, { style: "percent" }).format(job.sent ?? 0);
    return (
      <div>
        <p role="status">{t("data.import_uploading", { name, percent })}</p>
        <progress max="1" value={String(job.sent ?? 0)} aria-label={t("data.upload_progress")} />
      </div>
    );
  }
  if (row.status === "queued") return <p role="status">{t("data.import_queued", { name })}</p>;
  const total = row.conversations_total;
  const done = row.conversations_imported + row.conversations_skipped + row.conversations_failed;
  if (row.status === "running") {
    if (total == null) return <p role="status">{t("data.import_reading", { name })}</p>;
    return (
      <div>
        <p role="status">{t("data.import_running", { name, done, total })}</p>
        <progress max={String(Math.max(total, 1))} value={String(done)} aria-label={t("data.import_progress")} />
      </div>
    );
  }
  return (
    <div class="import-result" role="status">
      {row.status === "failed" ? <Alert>{t("data.import_failed", { name, error: row.error })}</Alert> : <p>{t("data.import_done", { name })}</p>}
      {row.status === "done" || row.conversations_imported ? <p>{t("data.import_imported", { count: row.conversations_imported })}</p> : null}
      {row.conversations_skipped ? <p>{t("data.import_skipped", { count: row.conversations_skipped })}</p> : null}
      {row.errors?.length ? (
        <>
          <p>{t("data.import_errors", { count: row.errors.length })}</p>
          <ul aria-label={t("data.import_errors", { count: row.errors.length })}>
            {row.errors.map((entry) => (
              <li key={`${entry.kind}-${entry.index}`}>{t("data.import_error_entry", {
                title: entry.title || t("data.import_untitled", { number: entry.index + 1 }),
                error: entry.error,
              })}</li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function ImportSection() {
  const file = useRef(null);
  const job = mine(importJob);
  const busy = Boolean(job && !job.error && !FINISHED.includes(job.row?.status));
  const submit = (event) => {
    event.preventDefault();
    const chosen = file.current.files[0];
    if (chosen) startImport(chosen);
  };
  return (
    <section class="stack" aria-labelledby="data-import">
      <h3 id="data-import">{t("data.import_heading")}</h3>
      <p class="muted">{t("data.import_help")}</p>
      <form class="stack" onSubmit={submit}>
        <label class="field"><span>{t("data.import_file")}</span>
          <input ref={file} type="file" required accept=".zip,.json,application/zip,application/json" /></label>
        <button type="submit" class="primary" disabled={busy}>{t("data.import_start")}</button>
      </form>
      {job ? <ImportStatus job={job} /> : null}
    </section>
  );
}

function ExportStatus({ job }) {
  const { row, error } = job;
  if (error) return <Alert>{error}</Alert>;
  if (!row || row.status === "queued") return <p role="status">{t("data.export_queued")}</p>;
  if (row.status === "running") return <p role="status">{t("data.export_running")}</p>;
  if (row.status === "failed") return <Alert>{t("data.export_failed", { error: row.error })}</Alert>;
  if (!row.download_url) return null; // expired: a new one is one click away
  return (
    <div class="stack" role="status">
      <p>{t("data.export_ready", { size: size(row.file_size ?? 0) })}</p>
      {row.expires_at ? <p class="muted">{t("data.export_expires", { date: when(row.expires_at) })}</p> : null}
      {/* The download needs the bearer token: fetched, then saved under the server's file name. */}
      <button type="button" onClick={() => download(row.download_url)}>{t("data.export_download")}</button>
    </div>
  );
}

function ExportSection() {
  const job = mine(exportJob);
  const busy = Boolean(job && !job.error && !FINISHED.includes(job.row?.status));
  return (
    <section class="stack" aria-labelledby="data-export">
      <h3 id="data-export">{t("data.export_heading")}</h3>
      <p class="muted">{t("data.export_help")}</p>
      <button type="button" class="primary" disabled={busy} onClick={startExport}>{t("data.export_start")}</button>
      {job ? <ExportStatus job={job} /> : null}
    </section>
  );
}

// The API's words for what is wrong: a field's errors, or its detail.
function apiWords(error) {
  const body = error.body;
  const words = [].concat(body?.password ?? body?.confirm ?? body?.detail ?? []).join(" ");
  return words || error.message;
}

// The account's password; an account without one (signed up through Google, Kakao...) is told so by
// the API, and then types the phrase the API asks for (ACCOUNT_DELETE_PHRASE in accounts/services.py).
function DeleteSection() {
  const password = useRef(null);
  const phraseInput = useRef(null);
  const [needsPhrase, setNeedsPhrase] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const phrase = `DELETE ${user.value?.email ?? ""}`;
  useEffect(() => { if (needsPhrase) phraseInput.current?.focus(); }, [needsPhrase]);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    const body = needsPhrase ? { confirm: phraseInput.current.value } : {};
    if (!needsPhrase && password.current.value) body.password = password.current.value;
    try {
      await api("/api/v1/user", { method: "DELETE", body });
      forget(); // the server has already ended every session of the account
      location.replace("/");
      return;
    } catch (failure) {
      // The first "no password" answer is an instruction (shown as the phrase's field), not an error.
      if (failure.body?.confirm && !needsPhrase) setNeedsPhrase(true);
      else setError(apiWords(failure));
    }
    setBusy(false);
  };
  return (
    <section class="stack" aria-labelledby="data-delete">
      <h3 id="data-delete">{t("data.delete_heading")}</h3>
      <p class="muted">{t("data.delete_help")}</p>
      <form class="stack" onSubmit={submit}>
        {needsPhrase ? (
          <label class="field"><span>{t("data.delete_confirm", { phrase })}</span>
            <input ref={phraseInput} type="text" autocomplete="off" spellcheck={false} maxlength="300" required /></label>
        ) : (
          <>
            <label class="field"><span>{t("data.delete_password")}</span>
              <input ref={password} type="password" autocomplete="current-password" maxlength="128" /></label>
            <p class="muted">{t("data.delete_password_help")}</p>
          </>
        )}
        {error ? <Alert>{error}</Alert> : null}
        <button type="submit" class="danger" disabled={busy}>{busy ? t("data.delete_busy") : t("data.delete_submit")}</button>
      </form>
    </section>
  );
}

export function DataControls() {
  // An import or export started earlier (in another window, before a reload) is picked up: one still
  // under way is followed, and a finished export's link is offered while it lasts.
  useEffect(() => {
    if (!mine(importJob)) {
      latest("/api/v1/imports?page_size=1").then((row) => {
        if (row && !FINISHED.includes(row.status) && !mine(importJob)) followImport(row);
      }).catch(() => {});
    }
    if (!mine(exportJob)) {
      latest("/api/v1/user/exports?page_size=1").then((row) => {
        if (row && row.status !== "expired" && row.status !== "failed" && !mine(exportJob)) followExport(row);
      }).catch(() => {});
    }
  }, []);
  return (
    <div class="stack data-controls">
      <ImportSection />
      <ExportSection />
      <DeleteSection />
    </div>
  );
}

// The Settings tab: [name, panel] as settings.jsx lists its tabs, the name read when the tabs render
// (so it is in the language of the moment, not of the moment this module was loaded).
export const dataTab = Object.defineProperty([null, DataControls], 0, { get: () => t("data.tab"), enumerable: true });

// A chat's menu: its export as a file (the server names it).
export const exportItems = (conversation) => [
  { label: t("data.export_chat_json"), onSelect: () => download(`/api/v1/conversations/${conversation.id}/export?format=json`) },
  { label: t("data.export_chat_markdown"), onSelect: () => download(`/api/v1/conversations/${conversation.id}/export?format=markdown`) },
];
