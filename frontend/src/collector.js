// The collector: the user's notes, links and files, with tags and search. Items are attached to a
// chat from the chat's settings.
import { allPages, api, problem, request } from "./api.js";
import { announce, confirmDialog, h, openDialog, say } from "./dom.js";

const splitTags = (text) => text.split(",").map((t) => t.trim()).filter(Boolean);

export function openCollector() {
  const search = h("input", { type: "search", "aria-label": "Search collector", placeholder: "Search (comma-separated keywords)" });
  const tag = h("select", { "aria-label": "Filter by tag" }, h("option", { value: "" }, "All tags"));
  const list = h("ul", { class: "rows collector-items", "aria-label": "Collector items" });
  const kind = h("select", { "aria-label": "Kind of item" },
    h("option", { value: "note" }, "Note"), h("option", { value: "link" }, "Link"), h("option", { value: "file" }, "File"));
  const title = h("input", { type: "text", maxlength: "200", "aria-label": "Title", placeholder: "Title" });
  const url = h("input", { type: "url", maxlength: "2000", "aria-label": "Link address", placeholder: "https://…", hidden: true });
  const content = h("textarea", { rows: "3", "aria-label": "Note text", placeholder: "Note" });
  const file = h("input", { type: "file", "aria-label": "File", hidden: true });
  const tags = h("input", { type: "text", "aria-label": "Tags", placeholder: "Tags, comma-separated" });
  kind.addEventListener("change", () => {
    url.hidden = kind.value !== "link";
    content.hidden = kind.value !== "note";
    file.hidden = kind.value !== "file";
  });
  const add = h("form", { class: "stack collector-add" }, h("h3", {}, "Add to collector"), kind, title, url, content, file, tags,
    h("button", { type: "submit", class: "primary" }, "Add item"));

  async function refresh() {
    const params = new URLSearchParams({ page_size: "100" });
    if (search.value.trim()) params.set("q", search.value.trim());
    if (tag.value) params.set("tag", tag.value);
    const items = await allPages(`/api/v1/collector/items?${params}`, 5);
    list.replaceChildren(...items.map(row));
    if (!items.length) list.append(h("li", { class: "muted" }, search.value || tag.value ? "Nothing matches." : "Nothing collected yet."));
  }
  async function refreshTags() {
    const all = await allPages("/api/v1/collector/tags?page_size=100", 5);
    const current = tag.value;
    tag.replaceChildren(h("option", { value: "" }, "All tags"), ...all.map((t) => h("option", { value: t.name, selected: t.name === current }, t.name)));
  }
  function row(item) {
    const name = item.title || item.url || item.file_name || "Untitled";
    return h("li", {},
      h("div", {},
        h("strong", {}, name), " ", h("span", { class: "muted" }, `(${item.kind})`),
        item.kind === "link" ? h("div", {}, h("a", { href: item.url, target: "_blank", rel: "noopener noreferrer nofollow" }, item.url)) : "",
        item.content ? h("p", { class: "clip" }, item.content.slice(0, 300)) : "",
        item.tags.length ? h("div", { class: "tags" }, item.tags.map((t) => h("span", { class: "tag" }, t))) : ""),
      h("div", { class: "row-actions" },
        item.download_url ? h("button", { type: "button", "aria-label": `Download ${name}`, onclick: () => download(item) }, "Download") : "",
        h("button", { type: "button", class: "danger", "aria-label": `Delete ${name}`, onclick: async () => {
          if (!(await confirmDialog({ title: "Delete item?", text: `Delete “${name}” from your collector?`, confirm: "Delete" }))) return;
          try { await api(`/api/v1/collector/items/${item.id}`, { method: "DELETE" }); announce("Item deleted"); await refresh(); }
          catch (error) { say(error.message); }
        } }, "Delete")));
  }
  // The file is behind the bearer token: fetch it, then hand the browser a local copy.
  async function download(item) {
    try {
      const r = await request(new URL(item.download_url, location.origin).pathname);
      if (!r.ok) throw await problem(r);
      const link = h("a", { href: URL.createObjectURL(await r.blob()), download: item.file_name || "download" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) { say(error.message); }
  }

  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (kind.value === "file") {
        if (!file.files.length) throw new Error("Choose a file first.");
        const form = new FormData();
        form.append("kind", "file");
        form.append("file", file.files[0]);
        if (title.value.trim()) form.append("title", title.value.trim());
        for (const t of splitTags(tags.value)) form.append("tags", t);
        await api("/api/v1/collector/items", { method: "POST", form });
      } else {
        await api("/api/v1/collector/items", { method: "POST", body: {
          kind: kind.value, title: title.value.trim(), url: kind.value === "link" ? url.value.trim() : "",
          content: kind.value === "note" ? content.value : "", tags: splitTags(tags.value) } });
      }
      for (const input of [title, url, content, file, tags]) input.value = "";
      say("");
      announce("Item added");
      await Promise.all([refresh(), refreshTags()]);
    } catch (error) { say(error.message); }
  });
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => refresh().catch((e) => say(e.message)), 250); });
  tag.addEventListener("change", () => refresh().catch((e) => say(e.message)));

  openDialog({ title: "Collector", wide: true, body: h("div", { class: "stack" },
    h("div", { class: "inline" }, search, tag), list, add) });
  Promise.all([refresh(), refreshTags()]).catch((error) => say(error.message));
}
