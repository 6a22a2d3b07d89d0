// Replies are Markdown: parsed by marked, sanitised by DOMPurify before they touch the page,
// code highlighted by highlight.js (a chosen set of languages, to keep the bundle small).
// The one place HTML is set: the element it renders into is a Preact component's, whose children
// Preact leaves alone (chat/view.jsx, <Markdown>).
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import kotlin from "highlight.js/lib/languages/kotlin";
import markdown from "highlight.js/lib/languages/markdown";
import php from "highlight.js/lib/languages/php";
import python from "highlight.js/lib/languages/python";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import swift from "highlight.js/lib/languages/swift";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { Marked } from "marked";
import { t } from "./i18n.js";
import { copyText } from "./ui/notices.js";

const LANGUAGES = { bash, c, cpp, csharp, css, diff, go, java, javascript, json, kotlin, markdown, php, python,
  ruby, rust, shell, sql, swift, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

const marked = new Marked({ gfm: true, breaks: false, async: false });

const PURIFY = {
  // No images (they would fetch from anywhere: a tracking pixel in a reply), no forms, no styles.
  FORBID_TAGS: ["img", "style", "form", "input", "button", "textarea", "select", "iframe", "svg", "math", "dialog",
    "template", "object", "embed", "video", "audio", "source", "picture", "link", "meta", "base"],
  FORBID_ATTR: ["style", "id", "name"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
};

// No class from a reply but a code block's language: a reply must not borrow the page's own
// styling (a fake dialog, a fake button) to pass itself off as the app.
DOMPurify.addHook("uponSanitizeAttribute", (node, data) => {
  if (data.attrName === "class" && !(node.tagName === "CODE" && /^language-[\w+#.-]+$/.test(data.attrValue))) {
    data.keepAttr = false;
  }
});

// Links open in a new tab without giving it a handle on this page or the referrer.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    if (node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  }
});

function highlight(code) {
  const language = [...code.classList].find((name) => name.startsWith("language-"))?.slice(9).toLowerCase();
  const text = code.textContent;
  const result = language && hljs.getLanguage(language)
    ? hljs.highlight(text, { language, ignoreIllegals: true })
    : null;
  if (result) code.innerHTML = result.value; // hljs escapes the text it wraps in spans
  code.classList.add("hljs");
  return language && hljs.getLanguage(language) ? language : language || "";
}

// The few elements added around the sanitised HTML (text always as text).
function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text) node.textContent = text;
  return node;
}

function decorateCode(pre) {
  const code = pre.querySelector("code") ?? pre;
  const language = highlight(code);
  const copy = element("button", "copy-code", t("ui.copy"));
  copy.type = "button";
  copy.setAttribute("aria-label", t("ui.copy_code"));
  copy.addEventListener("click", async () => {
    await copyText(code.textContent);
    copy.textContent = t("ui.copied");
    setTimeout(() => { copy.textContent = t("ui.copy"); }, 1500);
  });
  const head = element("div", "code-head");
  head.append(element("span", "code-language", language || t("ui.code_text")), copy);
  const block = element("div", "code-block");
  block.append(head);
  pre.replaceWith(block);
  block.append(pre);
}

// Render `text` into `target`. Called again on every streamed delta: an unclosed ``` fence is
// shown as a code block already, so the text never flashes between code and prose.
export function renderMarkdown(target, text) {
  const html = DOMPurify.sanitize(marked.parse(text), PURIFY);
  target.innerHTML = html;
  for (const pre of target.querySelectorAll("pre")) decorateCode(pre);
  // Wide tables scroll inside the message, never the page (phones).
  for (const table of target.querySelectorAll("table")) {
    const wrap = element("div", "table-wrap");
    table.replaceWith(wrap);
    wrap.append(table);
  }
}
