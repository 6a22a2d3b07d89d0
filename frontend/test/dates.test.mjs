// dates.js: the sidebar's days counted in the user's zone, not the machine's nor UTC's, and
// months and times worded by Intl in the UI's language.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { dayGroup, formatDateTime, groupLabel, isTimeZone, timeZoneLabel, timeZoneNames } from "../src/dates.js";
import { setLanguage } from "../src/i18n.js";

const SEOUL = "Asia/Seoul";
const label = (when, now, zone, language) => {
  setLanguage(language, { remember: false });
  return groupLabel(dayGroup(when, { now, zone }), { language, zone });
};

afterEach(() => setLanguage("en", { remember: false }));

describe("dayGroup across a zone boundary", () => {
  // 2026-12-07 00:30 in Seoul is 2026-12-06 15:30 UTC; "now" is 2026-12-07 10:00 in Seoul.
  const now = new Date("2026-12-07T01:00:00Z");
  const justAfterMidnightInSeoul = "2026-12-06T15:30:00Z";

  test("today in Seoul, yesterday in UTC", () => {
    assert.equal(dayGroup(justAfterMidnightInSeoul, { now, zone: SEOUL }).key, "today");
    assert.equal(dayGroup(justAfterMidnightInSeoul, { now, zone: "UTC" }).key, "yesterday");
    assert.equal(label(justAfterMidnightInSeoul, now, SEOUL, "ko"), "오늘");
    assert.equal(label(justAfterMidnightInSeoul, now, "UTC", "ko"), "어제");
    assert.equal(label(justAfterMidnightInSeoul, now, SEOUL, "en"), "Today");
    assert.equal(label(justAfterMidnightInSeoul, now, "UTC", "en"), "Yesterday");
  });

  test("the month of an old chat is its month in the zone", () => {
    // 2026-10-31 16:00 UTC is already November 1st in Seoul.
    const when = "2026-10-31T16:00:00Z";
    assert.equal(label(when, now, SEOUL, "ko"), "2026년 11월");
    assert.equal(label(when, now, SEOUL, "en"), "November 2026");
    assert.equal(label(when, now, "UTC", "en"), "October 2026");
    assert.equal(dayGroup(when, { now, zone: SEOUL }).key, "month-2026-11");
    assert.equal(dayGroup(when, { now, zone: "UTC" }).key, "month-2026-10");
  });

  test("the previous 7 and 30 days, counted in days of the zone", () => {
    const daysAgo = (days) => new Date(now.getTime() - days * 86400000).toISOString();
    assert.equal(label(daysAgo(2), now, SEOUL, "ko"), "지난 7일");
    assert.equal(label(daysAgo(7), now, SEOUL, "ko"), "지난 7일");
    assert.equal(label(daysAgo(8), now, SEOUL, "ko"), "지난 30일");
    assert.equal(label(daysAgo(30), now, SEOUL, "en"), "Previous 30 days");
    assert.equal(label(daysAgo(31), now, SEOUL, "en"), "November 2026");
    // A time "in the future" (a clock a little ahead) is today, not a group of its own.
    assert.equal(dayGroup(daysAgo(-0.01), { now, zone: SEOUL }).key, "today");
  });

  test("a day that starts at a daylight-saving change is still one day", () => {
    // New York falls back on 2026-11-01: that day lasts 25 hours.
    const zone = "America/New_York";
    const nowNy = new Date("2026-11-02T12:00:00Z"); // Nov 2, 07:00 in New York
    assert.equal(dayGroup("2026-11-01T04:30:00Z", { now: nowNy, zone }).key, "yesterday"); // Nov 1, 00:30 EDT
    assert.equal(dayGroup("2026-11-01T03:30:00Z", { now: nowNy, zone }).key, "previous_7_days"); // Oct 31
  });
});

describe("formatDateTime", () => {
  test("in the zone and the language", () => {
    const when = "2026-12-06T15:05:00Z";
    const ko = formatDateTime(when, { language: "ko", zone: SEOUL });
    assert.match(ko, /2026\. 12\. 7\./);
    assert.match(ko, /12:05/); // 00:05 in Seoul (the day period is ICU data's: "오전" in browsers)
    const en = formatDateTime(when, { language: "en", zone: "UTC" });
    assert.match(en, /Dec 6, 2026/);
    assert.match(en, /3:05\s?PM/);
  });
});

describe("time zones", () => {
  test("IANA names are checked and listed", () => {
    assert.ok(isTimeZone(SEOUL));
    assert.ok(!isTimeZone("Mars/Olympus"));
    assert.ok(!isTimeZone(""));
    const names = timeZoneNames("UTC");
    assert.ok(names.includes(SEOUL));
    assert.ok(names.includes("UTC"));
  });
});

test("a zone's label: its IANA name, and its name in the language where Intl has one", () => {
  const ko = timeZoneLabel(SEOUL, "ko");
  assert.ok(ko.startsWith("Asia/Seoul"), ko);
  assert.equal(timeZoneLabel("Mars/Olympus", "en"), "Mars/Olympus");
});
