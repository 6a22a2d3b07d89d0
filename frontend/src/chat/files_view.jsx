// A message's files and a reply's sources, as shown in the log.
// - A user message's attachments: an image as a thumbnail (fetched with the bearer token into an
//   object URL, since <img src> cannot send it), a document as a chip; either downloads on click.
// - A reply's sources, numbered [1] [2]... under it, each opening the passage it was given (title,
//   page, the snippet), with a download for a file source; a web source (a web search's result)
//   is a link to its page (http and https only), in a new tab.
import { useEffect, useState } from "preact/hooks";
import { formatSize, isImage } from "../files.js";
import { t } from "../i18n.js";
import { hostOf, webLink } from "../tools.js";
import { openDialog } from "../ui/dialogs.jsx";
import { download, objectUrl } from "../ui/download.js";
import { Icon } from "../ui/icons.jsx";

const contentPath = (id) => `/api/v1/files/${id}/content`;

function Thumbnail({ file }) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    const control = new AbortController();
    let made = null;
    objectUrl(contentPath(file.id), file.content_type, control.signal).then((u) => {
      if (control.signal.aborted) { if (u) URL.revokeObjectURL(u); return; }
      made = u;
      setUrl(u);
    });
    return () => { control.abort(); if (made) URL.revokeObjectURL(made); };
  }, [file.id]);
  return url ? <img class="thumb" src={url} alt={file.name} /> : <span class="thumb placeholder" aria-hidden="true"><Icon name="file" /></span>;
}

export function MessageFiles({ files }) {
  if (!files?.length) return null;
  return (
    <ul class="message-files" aria-label={t("files.attached")}>
      {files.map((file) => (
        <li key={file.id}>
          <button type="button" class={isImage(file.content_type) ? "message-image" : "chip message-file"}
            aria-label={t("files.download_file", { name: file.name, size: formatSize(file.size) })} title={t("files.download_title", { name: file.name })}
            onClick={() => download(contentPath(file.id), file.name)}>
            {isImage(file.content_type) ? <Thumbnail file={file} /> : <>
              <span class="file-icon" aria-hidden="true"><Icon name="file" /></span>
              <span class="chip-text"><span class="chip-name">{file.name}</span><span class="chip-meta">{formatSize(file.size)}</span></span>
            </>}
          </button>
        </li>
      ))}
    </ul>
  );
}

const where = (source) => (source.page ? t("files.page", { page: source.page }) : "");

// A link that opens in a new tab, with no handle on this page, no referrer, and no endorsement.
const NEW_TAB = { target: "_blank", rel: "noopener noreferrer nofollow" };

const fromWords = (source) => (source.kind === "file" ? t("files.from_file")
  : source.kind === "web" ? [t("tools.from_web"), hostOf(source.url)].filter(Boolean).join(" · ") : t("files.from_item"));

export function openSource(source) {
  const isFile = source.kind === "file";
  // An imported reply's source whose file did not come back has no id: nothing to download.
  const downloadable = isFile && Boolean(source.id);
  openDialog({
    title: `[${source.n}] ${source.title || t("files.source")}`,
    body: () => (
      <div class="stack source-passage">
        <p class="muted">{[fromWords(source), where(source)].filter(Boolean).join(" · ")}</p>
        <blockquote class="snippet">{source.snippet || t("files.no_passage")}</blockquote>
      </div>
    ),
    actions: (close) => [
      downloadable ? <button type="button" class="primary" onClick={() => download(contentPath(source.id), source.title)}>
        <Icon name="download" /> {t("files.download")}
      </button> : null,
      <button type="button" autoFocus onClick={() => close()}>{t("common.close")}</button>,
    ].filter(Boolean),
  });
}

function WebSource({ source, link }) {
  const host = hostOf(link);
  const title = source.title || host;
  return (
    <a class="source web" href={link} {...NEW_TAB} title={source.snippet || undefined}
      aria-label={t("tools.source_web_label", { n: source.n, title, host })}>
      <span class="source-n">{`[${source.n}]`}</span>
      <span class="source-title">{title}</span>
      <span class="source-host">{host}</span>
    </a>
  );
}

export function Sources({ sources }) {
  if (!sources?.length) return null;
  return (
    <section class="sources" aria-label={t("files.sources")}>
      <h3 class="sources-head">{t("files.sources")}</h3>
      <ol>
        {sources.map((source) => {
          const link = source.kind === "web" ? webLink(source.url) : null;
          return (
            <li key={source.n}>
              {link ? <WebSource source={source} link={link} /> : (
                <button type="button" class="source" aria-label={source.page ? t("files.source_label_page", { n: source.n, title: source.title, page: source.page })
                  : t("files.source_label", { n: source.n, title: source.title })}
                  onClick={() => openSource(source)}>
                  <span class="source-n">{`[${source.n}]`}</span>
                  <span class="source-title">{source.title}</span>
                  {source.page ? <span class="source-page">{t("files.page_short", { page: source.page })}</span> : null}
                </button>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

// A web source's [n]: a link to its page, opening in a new tab.
function webCitation(n, link) {
  const anchor = document.createElement("a");
  anchor.className = "cite";
  anchor.href = link;
  anchor.target = NEW_TAB.target;
  anchor.rel = NEW_TAB.rel;
  anchor.textContent = `[${n}]`;
  anchor.setAttribute("aria-label", t("tools.cite_web_label", { n, host: hostOf(link) }));
  return anchor;
}

// The [n] markers of a reply's text (rendered Markdown in `root`) become buttons opening source n
// (a web source's: links to its page); markers inside code, or naming no source, stay text.
export function linkCitations(root, sources) {
  if (!sources?.length) return;
  const known = new Set(sources.map((s) => String(s.n)));
  const links = new Map(sources.filter((s) => s.kind === "web" && webLink(s.url)).map((s) => [String(s.n), webLink(s.url)]));
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement.closest("pre, code, button, a") || !/\[\d{1,3}\]/.test(node.data)
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const found = [];
  while (walker.nextNode()) found.push(walker.currentNode);
  for (const node of found) {
    const parts = node.data.split(/(\[\d{1,3}\])/);
    if (!parts.some((p) => known.has(p.slice(1, -1)))) continue;
    node.replaceWith(...parts.map((part) => {
      const n = /^\[(\d{1,3})\]$/.exec(part)?.[1];
      if (!n || !known.has(n)) return document.createTextNode(part);
      if (links.has(n)) return webCitation(n, links.get(n));
      const button = document.createElement("button");
      button.type = "button";
      button.className = "cite";
      button.dataset.n = n;
      button.textContent = `[${n}]`;
      button.setAttribute("aria-label", t("files.source_n", { n }));
      return button;
    }));
  }
}
