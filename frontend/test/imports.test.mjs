// The client's modules import one another in one direction only: no cycle, however long.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"|^\s*import\s+"(\.{1,2}\/[^"]+)"|import\(\s*"(\.{1,2}\/[^"]+)"\s*\)/gm;

function modules(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return /\.jsx?$/.test(entry.name) ? [path] : [];
  });
}

function graph() {
  const edges = new Map();
  for (const file of modules(SRC)) {
    const text = readFileSync(file, "utf8");
    edges.set(file, [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), m[1] ?? m[2] ?? m[3])));
  }
  return edges;
}

function cycles(edges) {
  const found = [];
  const state = new Map(); // file -> "visiting" | "done"
  const path = [];
  const visit = (file) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") { found.push([...path.slice(path.indexOf(file)), file]); return; }
    state.set(file, "visiting");
    path.push(file);
    for (const next of edges.get(file) ?? []) visit(next);
    path.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) visit(file);
  return found.map((cycle) => cycle.map((f) => relative(SRC, f)).join(" -> "));
}

test("every relative import names a module that exists", () => {
  const edges = graph();
  const missing = [...edges].flatMap(([file, targets]) => targets.filter((t) => !edges.has(t)).map((t) => `${relative(SRC, file)} -> ${relative(SRC, t)}`));
  assert.deepEqual(missing, []);
});

test("no import cycle between the client's modules", () => {
  assert.deepEqual(cycles(graph()), []);
});

test("the check finds a cycle when there is one", () => {
  const a = join(SRC, "a.js");
  const b = join(SRC, "b.js");
  const c = join(SRC, "c.js");
  assert.deepEqual(cycles(new Map([[a, [b]], [b, [c]], [c, [a]]])), ["a.js -> b.js -> c.js -> a.js"]);
});

test("stream.js and api.js stay free of the page: no DOM, no UI library", () => {
  for (const name of ["stream.js", "api.js"]) {
    const text = readFileSync(join(SRC, name), "utf8");
    assert.doesNotMatch(text, /\bdocument\.|\bwindow\.|from "preact|@preact/, name);
  }
});
