// Every string the client shows comes from here: t(key, {name}) with a key "area.name" looks the key up in the
// catalog of the current language (src/locales/<area>.js hold both languages side by side), fills
// {placeholders}, and picks the plural form with Intl.PluralRules when the entry has forms and
// params.count is given. A component that calls t() re-renders when the language changes.
import { signal } from "@preact/signals";
import { catalogs } from "./locales/index.js";

export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "ko", name: "한국어" },
];
const CODES = LANGUAGES.map((l) => l.code);

// The first visit follows the browser; a choice is saved on the user (and here, for the pages
// before sign-in).
export function browserLanguage() {
  const browser = globalThis.navigator ?? {}; // absent under node (the unit tests)
  for (const tag of browser.languages ?? [browser.language]) {
    const code = String(tag || "").toLowerCase().split("-")[0];
    if (CODES.includes(code)) return code;
  }
  return "en";
}

function initialLanguage() {
  try {
    const saved = localStorage.getItem("chat.lang");
    if (CODES.includes(saved)) return saved;
  } catch { /* storage may be off */ }
  return browserLanguage();
}

export const lang = signal(initialLanguage());
const html = globalThis.document?.documentElement ?? {};
html.lang = lang.value;

// `code` "" means "follow the browser".
export function setLanguage(code, { remember = true } = {}) {
  const next = CODES.includes(code) ? code : browserLanguage();
  try {
    if (remember && CODES.includes(code)) localStorage.setItem("chat.lang", code);
    else if (remember) localStorage.removeItem("chat.lang");
  } catch { /* storage may be off */ }
  lang.value = next;
  html.lang = next;
}

const plurals = {};
function pluralForm(language, count) {
  plurals[language] ??= new Intl.PluralRules(language);
  return plurals[language].select(count);
}

function lookup(language, key) {
  const dot = key.indexOf(".");
  const area = catalogs[key.slice(0, dot)];
  return area?.[language]?.[key.slice(dot + 1)];
}

export function t(key, params = {}) {
  const language = lang.value;
  let entry = lookup(language, key) ?? lookup("en", key);
  if (entry === undefined) return key; // the CI check (frontend/test/i18n.test.mjs) keeps this from happening
  if (typeof entry === "object") {
    entry = entry[pluralForm(language, Number(params.count ?? 0))] ?? entry.other;
  }
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}
