// The page's two voices: `say` shows a problem (role=alert: the line under the header, or the open
// dialog's own line), `announce` tells screen readers politely (a reply finished, a link copied).
import { signal } from "@preact/signals";
import { t } from "../i18n.js";
import { dialogs } from "./dialogs.jsx";

export const status = signal("");
export const announcement = signal("");

export function say(text) {
  // Inside an open dialog the message goes into the dialog, which sits above the page.
  const top = dialogs.value.at(-1);
  (top ? top.error : status).value = text || "";
}

export function announce(text) {
  // Emptied first, so the same words said twice are read twice.
  announcement.value = "";
  setTimeout(() => { announcement.value = text; }, 50);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API refused (no permission, plain http): the old way through a hidden field.
    const field = document.createElement("textarea");
    field.className = "offscreen";
    field.setAttribute("aria-hidden", "true");
    field.value = text;
    document.body.append(field);
    field.select();
    document.execCommand("copy");
    field.remove();
  }
  announce(t("ui.copied"));
}
