// A tiny element builder: text always goes in as Text nodes, so nothing a user or a model wrote
// can become markup. Only markdown.js sets HTML, and only after DOMPurify.

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key in element && !key.includes("-") && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// Polite announcements for screen readers (a reply finished, a link copied...).
export function announce(text) {
  const region = $("#announcer");
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
}

// The one line under the header where problems are shown (role=alert in the page).
export function say(text) {
  // Inside an open dialog the message goes into the dialog, which sits above the page.
  const dialog = [...document.querySelectorAll("body > dialog[open]")].at(-1);
  const bar = dialog?.querySelector(".dialog-error") ?? $("#status");
  bar.textContent = text || "";
  bar.hidden = !text;
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API refused (no permission, plain http): the old way through a hidden field.
    const field = h("textarea", { class: "offscreen", "aria-hidden": "true" }, text);
    document.body.append(field);
    field.select();
    document.execCommand("copy");
    field.remove();
  }
  announce("Copied");
}

// A modal dialog on <dialog> (focus trapped, Escape closes), removed from the page once closed.
export function openDialog({ title, body, actions = [], onClose, wide = false }) {
  const heading = h("h2", { id: `dlg-${Math.random().toString(36).slice(2)}` }, title);
  const dialog = h(
    "dialog",
    { class: wide ? "wide" : "", "aria-labelledby": heading.id },
    h("div", { class: "dialog-head" }, heading,
      h("button", { type: "button", class: "icon", "aria-label": "Close", onclick: () => dialog.close() }, icon("close"))),
    h("p", { class: "dialog-error", role: "alert", hidden: true }),
    h("div", { class: "dialog-body" }, body),
    actions.length ? h("div", { class: "dialog-actions" }, actions) : null,
  );
  dialog.addEventListener("close", () => { dialog.remove(); onClose?.(dialog.returnValue); });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

export function confirmDialog({ title, text, confirm, danger = true }) {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h("button", { type: "button", class: danger ? "danger" : "primary",
      onclick: () => { answer = true; dialog.close(); } }, confirm);
    const no = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
    const dialog = openDialog({ title, body: h("p", {}, text), actions: [no, yes], onClose: () => resolve(answer) });
    no.focus(); // Enter on a confirmation never destroys by accident
  });
}

// A menu button: `items` are {label, onSelect, checked?, description?}; arrows move, Escape closes.
export function menuButton({ label, content, items, className = "icon" }) {
  const button = h("button", { type: "button", class: className, "aria-label": label, "aria-haspopup": "menu",
    "aria-expanded": "false" }, content);
  let menu = null;
  const close = (refocus = true) => {
    if (!menu) return;
    menu.remove(); menu = null;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", outside, true);
    if (refocus) button.focus();
  };
  const outside = (event) => { if (menu && !menu.contains(event.target) && event.target !== button) close(false); };
  button.addEventListener("click", () => {
    if (menu) return close();
    const entries = (typeof items === "function" ? items() : items);
    menu = h("div", { class: "menu", role: "menu", "aria-label": label },
      entries.map((item) => h("button", {
        type: "button",
        role: item.checked === undefined ? "menuitem" : "menuitemradio",
        "aria-checked": item.checked === undefined ? undefined : String(item.checked),
        class: item.danger ? "danger" : "",
        onclick: () => { close(); item.onSelect(); },
      }, h("span", { class: "menu-label" }, item.label),
      item.description ? h("span", { class: "menu-description" }, item.description) : null)));
    menu.addEventListener("keydown", (event) => {
      const buttons = [...menu.querySelectorAll("button")];
      const at = buttons.indexOf(document.activeElement);
      // Escape closes this menu only, not the drawer or dialog it sits in.
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close(); }
      else if (event.key === "ArrowDown") { event.preventDefault(); buttons[(at + 1) % buttons.length].focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); buttons[(at - 1 + buttons.length) % buttons.length].focus(); }
      else if (event.key === "Tab") close(false);
    });
    button.after(menu);
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", outside, true);
    (menu.querySelector("[aria-checked=true]") ?? menu.querySelector("button"))?.focus();
  });
  return button;
}

// Line icons drawn for this client (24x24, stroked with the text colour); decorative only: every
// button that shows one also has an aria-label.
const ICONS = {
  copy: "M9 9h11v11H9z M5 15H4V4h11v1",
  regenerate: "M20 12a8 8 0 1 1-2.3-5.6 M20 4v5h-5",
  up: "M7 10v11H3V10z M7 10l4-7a2 2 0 0 1 3 2l-1 4h6a2 2 0 0 1 2 2.3l-1.4 7A2 2 0 0 1 17.6 21H7",
  down: "M7 14V3H3v11z M7 14l4 7a2 2 0 0 0 3-2l-1-4h6a2 2 0 0 0 2-2.3l-1.4-7A2 2 0 0 0 17.6 3H7",
  edit: "M4 20h4L19 9l-4-4L4 16z M13 7l4 4",
  send: "M12 19V5 M5 12l7-7 7 7",
  stop: "M7 7h10v10H7z",
  menu: "M4 6h16 M4 12h16 M4 18h16",
  close: "M6 6l12 12 M18 6L6 18",
  dots: "M5 12h.01 M12 12h.01 M19 12h.01",
  sliders: "M4 6h10 M18 6h2 M16 4v4 M4 12h4 M12 12h8 M10 10v4 M4 18h12 M20 18h0 M18 16v4",
  compose: "M12 4H5v15h15v-7 M17 3l4 4-8 8H9v-4z",
};

export function icon(name) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}
