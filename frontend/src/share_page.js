// The public share page (/share/<id>/, sharing/templates/sharing/): the one script it runs, loaded
// with the page's CSP nonce. Three things, none of which the page needs to be read:
// - each <time datetime> is rewritten in the reader's own zone and language (Intl); the server wrote
//   the time in UTC (or the signed-in reader's zone) with the zone's name;
// - code blocks are highlighted (highlight.js, a chosen set of languages, as in the client);
// - each code block gets a Copy button. Its words come from the page (data-copy, data-copied,
//   data-copy-failed on <main>), translated by the server: this file holds no text of its own.
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const LANGUAGES = { bash, c, cpp, css, go, java, javascript, json, python, rust, shell, sql, typescript, xml,
  yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

function localTimes(lang) {
  let format;
  try {
    // dateStyle/timeStyle cannot be combined with timeZoneName: the parts, named one by one.
    format = new Intl.DateTimeFormat(lang || undefined, { year: "numeric", month: "long", day: "numeric",
      hour: "numeric", minute: "2-digit", timeZoneName: "short" });
  } catch {
    return;
  }
  for (const node of document.querySelectorAll("time[datetime]")) {
    const when = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    node.title = node.textContent.trim(); // the server's text (UTC) stays readable on hover
    node.textContent = format.format(when);
    node.dataset.local = "true";
  }
}

function highlight(code) {
  const language = [...code.classList].find((name) => name.startsWith("language-"))?.slice(9).toLowerCase();
  if (language && hljs.getLanguage(language)) {
    // hljs escapes the text it wraps in spans; the text is the sanitised page's own.
    code.innerHTML = hljs.highlight(code.textContent, { language, ignoreIllegals: true }).value;
  }
  code.classList.add("hljs");
}

function copyButton(pre, code, words) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = words.copy;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code.textContent);
      button.textContent = words.copied;
    } catch {
      button.textContent = words.failed;
    }
    setTimeout(() => { button.textContent = words.copy; }, 2000);
  });
  pre.classList.add("has-copy");
  pre.prepend(button);
}

function start() {
  const main = document.querySelector("main");
  localTimes(document.documentElement.lang);
  const words = {
    copy: main?.dataset.copy || "Copy",
    copied: main?.dataset.copied || "Copied",
    failed: main?.dataset.copyFailed || "Copy failed",
  };
  for (const code of document.querySelectorAll("article.msg pre > code")) {
    highlight(code);
    copyButton(code.parentElement, code, words);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
