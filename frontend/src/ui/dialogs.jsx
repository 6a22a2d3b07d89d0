// Modal dialogs on <dialog> (focus trapped, Escape closes), kept as a stack that <Dialogs/> renders.
// openDialog() is called from anywhere (a menu item, a button) and answers a function that closes it.
import { signal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import { t } from "../i18n.js";
import { Icon } from "./icons.jsx";

export const dialogs = signal([]); // {key, title, wide, body, actions, onClose, error, element}
let keys = 0;

// `body` and `actions` are functions of `close` answering what to show; `title` is a text or a
// function answering it (read at each render: it follows a change of language).
export function openDialog({ title, body, actions, onClose, wide = false }) {
  const entry = { key: ++keys, title, body, actions, onClose, wide, error: signal(""), element: null };
  dialogs.value = [...dialogs.value, entry];
  return (value) => entry.element?.close(value);
}

export function confirmDialog({ title, text, confirm, danger = true }) {
  return new Promise((resolve) => {
    let answer = false;
    openDialog({
      title,
      body: () => <p>{text}</p>,
      // Cancel has the focus: Enter on a confirmation never destroys by accident.
      actions: (close) => [
        <button type="button" autoFocus onClick={() => close()}>{t("common.cancel")}</button>,
        <button type="button" class={danger ? "danger" : "primary"} onClick={() => { answer = true; close(); }}>{confirm}</button>,
      ],
      onClose: () => resolve(answer),
    });
  });
}

function Dialog({ entry }) {
  const ref = useRef(null);
  const headingId = `dlg-${entry.key}`;
  useLayoutEffect(() => {
    const element = ref.current;
    entry.element = element;
    const closed = () => {
      dialogs.value = dialogs.value.filter((other) => other !== entry);
      entry.onClose?.(element.returnValue);
    };
    element.addEventListener("close", closed);
    element.showModal();
    return () => element.removeEventListener("close", closed);
  }, []);
  const close = (value) => ref.current?.close(value);
  const actions = entry.actions?.(close);
  return (
    <dialog ref={ref} class={entry.wide ? "wide" : undefined} aria-labelledby={headingId}>
      <div class="dialog-head">
        <h2 id={headingId}>{typeof entry.title === "function" ? entry.title() : entry.title}</h2>
        <button type="button" class="icon" aria-label={t("common.close")} onClick={() => close()}><Icon name="close" /></button>
      </div>
      <p class="dialog-error" role="alert" hidden={!entry.error.value}>{entry.error.value}</p>
      <div class="dialog-body">{entry.body(close)}</div>
      {actions?.length ? <div class="dialog-actions">{actions}</div> : null}
    </dialog>
  );
}

export function Dialogs() {
  return dialogs.value.map((entry) => <Dialog key={entry.key} entry={entry} />);
}
