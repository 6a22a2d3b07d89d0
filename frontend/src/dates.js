// Dates in the reader's language and time zone. The zone is the one saved on the account (set from
// the browser at the first sign-in, main.js), so "today" in the sidebar is the user's today, not
// the server's nor UTC's. Everything goes through Intl: no month name or date order is written here.
import { signal } from "@preact/signals";
import { lang, t } from "./i18n.js";

export function browserTimeZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch { return "UTC"; }
}

export function isTimeZone(zone) {
  if (!zone) return false;
  try { new Intl.DateTimeFormat("en", { timeZone: zone }); return true; } catch { return false; }
}

// The IANA names to choose from (the browser's list, with `current` in it even if the browser
// lists it under another name, e.g. "UTC").
export function timeZoneNames(current) {
  let names = [];
  try { names = Intl.supportedValuesOf("timeZone"); } catch { /* an older browser: the current zone only */ }
  return current && !names.includes(current) ? [current, ...names] : names;
}

// A zone as a person knows it: its IANA name and, where the language has one, its name in that
// language ("Asia/Seoul (대한민국 시간)", "America/New_York (Eastern Time)").
const zoneNames = new Map();
export function timeZoneLabel(zone, language = lang.value) {
  const key = `${language} ${zone}`;
  if (!zoneNames.has(key)) {
    let name = "";
    try {
      name = new Intl.DateTimeFormat(language, { timeZone: zone, timeZoneName: "longGeneric" })
        .formatToParts(new Date()).find((p) => p.type === "timeZoneName")?.value ?? "";
    } catch { /* an unknown zone: its IANA name only */ }
    zoneNames.set(key, name && !/^GMT|^UTC/.test(name) ? `${zone} (${name})` : zone);
  }
  return zoneNames.get(key);
}

export const timeZone = signal(browserTimeZone());
export function setTimeZone(zone) { timeZone.value = isTimeZone(zone) ? zone : browserTimeZone(); }

// The calendar day of `date` in `zone`, as a count of days (only differences between two matter).
export function dayNumber(date, zone) {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "numeric", day: "numeric" })
    .formatToParts(date);
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return Date.UTC(part("year"), part("month") - 1, part("day")) / 86400000;
}

// The sidebar's group of a time: today, yesterday, the previous 7 and 30 days (as ChatGPT groups
// them), then its month; days counted in `zone`. `key` is stable across languages (element ids).
export function dayGroup(when, { now = new Date(), zone = timeZone.value } = {}) {
  const date = new Date(when);
  const days = dayNumber(now, zone) - dayNumber(date, zone);
  if (days <= 0) return { key: "today", date };
  if (days === 1) return { key: "yesterday", date };
  if (days <= 7) return { key: "previous_7_days", date };
  if (days <= 30) return { key: "previous_30_days", date };
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "2-digit" }).formatToParts(date);
  const part = (type) => parts.find((p) => p.type === type).value;
  return { key: `month-${part("year")}-${part("month")}`, date };
}

// The group's heading: "Today"/"오늘"..., or the month ("November 2026", "2026년 11월").
export function groupLabel(group, { language = lang.value, zone = timeZone.value } = {}) {
  if (!group.key.startsWith("month-")) return t(`dates.${group.key}`);
  return new Intl.DateTimeFormat(language, { timeZone: zone, year: "numeric", month: "long" }).format(group.date);
}

// A moment, with date and time ("Dec 7, 2026, 12:05 AM", "2026. 12. 7. 오전 12:05").
export function formatDateTime(when, { language = lang.value, zone = timeZone.value } = {}) {
  return new Intl.DateTimeFormat(language, { timeZone: zone, dateStyle: "medium", timeStyle: "short" }).format(new Date(when));
}
