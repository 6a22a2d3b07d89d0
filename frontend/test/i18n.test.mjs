// It stays bilingual: every catalog area has the same keys in "en" and "ko", no empty string, the
// same {placeholders} and plural forms each language needs, and every t("area.key") written in the
// source exists. (The server's catalogs are checked by tests/config/test_translations.py.)
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { catalogs } from "../src/locales/index.js";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
const LANGS = ["en", "ko"];
const placeholders = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const forms = (entry) => (typeof entry === "object" ? Object.values(entry) : [entry]);

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "locales" ? [] : sources(path);
    return /\.jsx?$/.test(entry.name) ? [path] : [];
  });
}

test("every area has every key in both languages, with the same placeholders", () => {
  for (const [area, catalog] of Object.entries(catalogs)) {
    for (const language of LANGS) assert.ok(catalog[language], `${area}: no "${language}"`);
    const keys = LANGS.map((language) => Object.keys(catalog[language]).sort());
    assert.deepEqual(keys[1], keys[0], `${area}: en and ko keys differ`);
    for (const key of keys[0]) {
      const want = placeholders(forms(catalog.en[key])[0]);
      for (const language of LANGS) {
        const entry = catalog[language][key];
        for (const form of forms(entry)) {
          assert.ok(typeof form === "string" && form.trim(), `${area}.${key} (${language}) is empty`);
          assert.deepEqual(placeholders(form), want, `${area}.${key} (${language}): placeholders differ`);
        }
        if (typeof entry === "object") {
          const needed = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
          for (const category of needed) assert.ok(category in entry, `${area}.${key} (${language}) lacks "${category}"`);
        }
      }
    }
  }
});

test("every key the source uses is in a catalog", () => {
  const missing = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bt\(\s*"([a-z_]+)\.([A-Za-z0-9_]+)"/g)) {
      if (!catalogs[m[1]]?.en?.[m[2]]) missing.push(`${file.slice(SRC.length + 1)}: ${m[1]}.${m[2]}`);
    }
  }
  assert.deepEqual(missing, []);
});
