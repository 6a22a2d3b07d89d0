// The message box: Enter sends (Shift+Enter: a new line), it grows with its text, and while a reply
// streams Send gives way to Stop (Escape in the box stops too). Files come in by the paperclip,
// by pasting (a screenshot, a copied file) or by dropping them on the chat (ChatView's drop zone);
// each uploads at once and shows as a chip above the box.
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { t } from "../i18n.js";
import { formatSize, IMAGE_TYPES, imageWarning, isImage, statusText } from "../files.js";
import { chat, models, streaming } from "../state.js";
import { Icon } from "../ui/icons.jsx";
import { enterSends } from "./actions.jsx";
import { attach, attachments, removeAttachment, watchProcessing } from "./attachments.js";
import { composerFocus, draft, send, sending, stop } from "./session.js";

// What the file picker offers (anything else is refused by the server with its reason).
const ACCEPT = [".pdf", ".docx", ".pptx", ".xlsx", ".html", ".htm", ".md", ".markdown", ".txt", ".csv", ".json", ".hwpx", ...IMAGE_TYPES].join(",");

function Chip({ attachment }) {
  const a = attachment;
  // The server is reading the file: ask it how far it got, until this chip goes away.
  useEffect(() => {
    if (a.phase !== "processing" || !a.id) return undefined;
    const control = new AbortController();
    watchProcessing(a.key, control.signal);
    return () => control.abort();
  }, [a.phase, a.id]);
  const status = statusText(a);
  return (
    <li class={`chip ${a.phase}`} data-phase={a.phase} aria-label={t("composer.chip_label", { name: a.name, size: formatSize(a.size), status })}>
      {a.thumb ? <img class="thumb" src={a.thumb} alt="" /> : <span class="file-icon" aria-hidden="true"><Icon name="file" /></span>}
      <span class="chip-text">
        <span class="chip-name" title={a.name}>{a.name}</span>
        <span class="chip-meta">
          {formatSize(a.size)}
          {a.phase === "uploading"
            ? <progress max="1" value={a.progress} aria-label={t("composer.uploading_file", { name: a.name })} />
            : <span class={`chip-status ${a.phase}`}>
              {a.phase === "processing" ? <span class="spinner" aria-hidden="true" /> : null}
              {a.phase === "failed" ? null : status}
            </span>}
        </span>
        {a.phase === "failed" ? <span class="chip-error" role="alert">{status}</span> : null}
      </span>
      <button type="button" class="icon chip-remove" aria-label={t("composer.remove_file", { name: a.name })} title={t("composer.remove")} onClick={() => removeAttachment(a.key)}>
        <Icon name="close" />
      </button>
    </li>
  );
}

export function Composer({ maxChars }) {
  const input = useRef(null);
  const picker = useRef(null);
  const focusAsked = composerFocus.value;
  // At once (not after the next paint): the person may already be moving the focus elsewhere.
  useLayoutEffect(() => { if (focusAsked) input.current.focus(); }, [focusAsked]);
  // Through the CSSOM (allowed by the page's CSP, unlike a style attribute).
  useLayoutEffect(() => {
    const box = input.current;
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight, 240)}px`;
  }, [draft.value]);
  const on = streaming.value;
  const files = attachments.value;
  const slug = chat.value.conversation?.model ?? chat.value.draftModel;
  const warning = imageWarning(files, models.value.find((m) => m.slug === slug));
  // A pasted screenshot (or a file copied in a file manager) is attached; pasted text stays text,
  // even when the clipboard also holds a picture of it (cells copied from a spreadsheet, a
  // paragraph from a word processor).
  const onPaste = (event) => {
    const pasted = [...(event.clipboardData?.files ?? [])];
    if (!pasted.length) return;
    if (event.clipboardData.getData("text/plain").trim() && pasted.every((file) => isImage(file.type))) return;
    event.preventDefault();
    attach(pasted.map((file, i) => (file.name && file.name !== "image.png" ? file
      : new File([file], `pasted-${new Date().toISOString().slice(0, 19).replaceAll(":", "-")}${i ? `-${i}` : ""}.${(file.type.split("/")[1] || "bin").replace("jpeg", "jpg")}`, { type: file.type }))));
  };
  return (
    <form id="composer" onSubmit={(event) => { event.preventDefault(); send(); }}>
      {files.length ? <ul class="chips" aria-label={t("composer.files_to_send")}>{files.map((a) => <Chip key={a.key} attachment={a} />)}</ul> : null}
      {warning ? <p class="composer-warning" role="status">{warning}</p> : null}
      <div class="composer-row">
        <input ref={picker} id="file-picker" type="file" multiple accept={ACCEPT} hidden tabIndex={-1} aria-hidden="true"
          onChange={(event) => { attach([...event.currentTarget.files]); event.currentTarget.value = ""; }} />
        <button id="attach" type="button" class="icon" aria-label={t("composer.attach")} title={t("composer.attach_title")}
          onClick={() => picker.current.click()}><Icon name="paperclip" /></button>
        <label class="offscreen" for="composer-input">{t("composer.label")}</label>
        <textarea ref={input} id="composer-input" rows="1" maxlength={maxChars} placeholder={t("composer.placeholder")} value={draft.value}
          onInput={(event) => { draft.value = event.currentTarget.value; }}
          onPaste={onPaste}
          onKeyDown={(event) => {
            if (enterSends(event)) { event.preventDefault(); send(); }
            else if (event.key === "Escape" && streaming.value) stop();
          }} />
        <button id="send" type="submit" aria-label={t("composer.send")} title={t("composer.send_title")} hidden={on} disabled={sending.value}><Icon name="send" /></button>
        <button id="stop" type="button" aria-label={t("composer.stop")} title={t("composer.stop_title")} hidden={!on} onClick={stop}><Icon name="stop" /></button>
      </div>
    </form>
  );
}
