// The collector: the user's notes, links and files, with tags and search. Items are attached to a
// chat from the chat's settings.
import { useEffect, useRef, useState } from "preact/hooks";
import { allPages, api } from "./api.js";
import { itemFileState, pollDelay } from "./files.js";
import { t } from "./i18n.js";
import { confirmDialog, openDialog } from "./ui/dialogs.jsx";
import { download } from "./ui/download.js";
import { FileStatus } from "./ui/file_status.jsx";
import { announce, say } from "./ui/notices.js";

const splitTags = (text) => text.split(",").map((tag) => tag.trim()).filter(Boolean);
const nameOf = (item) => item.title || item.url || item.file_name || t("collector.untitled");
// The kinds the server knows, in words; an unknown one as the server names it.
const kindName = (kind) => ({ note: t("collector.kind_note"), link: t("collector.kind_link"), file: t("collector.kind_file") })[kind] ?? kind;

function Item({ item, onDeleted }) {
  const name = nameOf(item);
  const remove = async () => {
    if (!(await confirmDialog({ title: t("collector.delete_title"), text: t("collector.delete_text", { name }), confirm: t("common.delete") }))) return;
    try { await api(`/api/v1/collector/items/${item.id}`, { method: "DELETE" }); announce(t("collector.deleted")); await onDeleted(); }
    catch (error) { say(error.message); }
  };
  return (
    <li>
      <div>
        <strong>{name}</strong> <span class="muted">{`(${kindName(item.kind)})`}</span>
        <FileStatus item={item} />
        {item.kind === "link" ? <div><a href={item.url} target="_blank" rel="noopener noreferrer nofollow">{item.url}</a></div> : null}
        {item.content ? <p class="clip">{item.content.slice(0, 300)}</p> : null}
        {item.tags.length ? <div class="tags">{item.tags.map((tag) => <span class="tag">{tag}</span>)}</div> : null}
      </div>
      <div class="row-actions">
        {item.download_url ? <button type="button" aria-label={t("collector.download_name", { name })} onClick={() => download(item.download_url, item.file_name)}>{t("collector.download")}</button> : null}
        <button type="button" class="danger" aria-label={t("collector.delete_name", { name })} onClick={remove}>{t("common.delete")}</button>
      </div>
    </li>
  );
}

function AddForm({ onAdded }) {
  const [kind, setKind] = useState("note");
  const form = useRef(null);
  const submit = async (event) => {
    event.preventDefault();
    const fields = form.current.elements;
    const title = fields.title.value.trim();
    const tags = splitTags(fields.tags.value);
    try {
      if (kind === "file") {
        const file = fields.file.files[0];
        if (!file) throw new Error(t("collector.choose_file_first"));
        const body = new FormData();
        body.append("kind", "file");
        body.append("file", file);
        if (title) body.append("title", title);
        for (const tag of tags) body.append("tags", tag);
        await api("/api/v1/collector/items", { method: "POST", form: body });
      } else {
        await api("/api/v1/collector/items", { method: "POST", body: {
          kind, title, url: kind === "link" ? fields.url.value.trim() : "",
          content: kind === "note" ? fields.content.value : "", tags } });
      }
      for (const name of ["title", "url", "content", "file", "tags"]) fields[name].value = "";
      say("");
      announce(t("collector.added"));
      await onAdded();
    } catch (error) { say(error.message); }
  };
  return (
    <form ref={form} class="stack collector-add" onSubmit={submit}>
      <h3>{t("collector.add_heading")}</h3>
      <select aria-label={t("collector.kind_label")} value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
        <option value="note">{t("collector.option_note")}</option>
        <option value="link">{t("collector.option_link")}</option>
        <option value="file">{t("collector.option_file")}</option>
      </select>
      <input name="title" type="text" maxlength="200" aria-label={t("collector.title")} placeholder={t("collector.title")} />
      <input name="url" type="url" maxlength="2000" aria-label={t("collector.link_address")} placeholder="https://…" hidden={kind !== "link"} />
      <textarea name="content" rows="3" aria-label={t("collector.note_text")} placeholder={t("collector.note_placeholder")} hidden={kind !== "note"} />
      <input name="file" type="file" aria-label={t("collector.file")} hidden={kind !== "file"} />
      <input name="tags" type="text" aria-label={t("collector.tags")} placeholder={t("collector.tags_placeholder")} />
      <button type="submit" class="primary">{t("collector.add_item")}</button>
    </form>
  );
}

function Collector() {
  const [query, setQuery] = useState("");
  const [tag, setTag] = useState("");
  const [items, setItems] = useState(null);
  const [tags, setTags] = useState([]);
  const generation = useRef(0);

  const refresh = async (q = query, byTag = tag) => {
    const mine = ++generation.current;
    const params = new URLSearchParams({ page_size: "100" });
    if (q.trim()) params.set("q", q.trim());
    if (byTag) params.set("tag", byTag);
    const found = await allPages(`/api/v1/collector/items?${params}`, 5);
    if (mine === generation.current) setItems(found);
  };
  const refreshTags = async () => setTags(await allPages("/api/v1/collector/tags?page_size=100", 5));
  const both = () => Promise.all([refresh(), refreshTags()]);

  useEffect(() => { both().catch((error) => say(error.message)); }, []);
  // Files still being read: look again, more slowly each time, until none is (or the dialog closes).
  const polls = useRef(0);
  const reading = (items ?? []).some((item) => itemFileState(item)?.phase === "processing");
  useEffect(() => {
    if (!reading) { polls.current = 0; return undefined; }
    const timer = setTimeout(() => refresh().catch(() => {}), pollDelay(polls.current++));
    return () => clearTimeout(timer);
  }, [items, reading]);
  const timer = useRef(null);
  const onSearch = (event) => {
    const q = event.currentTarget.value;
    setQuery(q);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => refresh(q, tag).catch((e) => say(e.message)), 250);
  };
  const onTag = (event) => {
    const chosen = event.currentTarget.value;
    setTag(chosen);
    refresh(query, chosen).catch((e) => say(e.message));
  };

  return (
    <div class="stack">
      <div class="inline">
        <input type="search" aria-label={t("collector.search_label")} placeholder={t("collector.search_placeholder")} value={query} onInput={onSearch} />
        <select aria-label={t("collector.filter_by_tag")} value={tag} onChange={onTag}>
          <option value="">{t("collector.all_tags")}</option>
          {tags.map((found) => <option value={found.name}>{found.name}</option>)}
        </select>
      </div>
      <ul class="rows collector-items" aria-label={t("collector.items")}>
        {(items ?? []).map((item) => <Item key={item.id} item={item} onDeleted={() => refresh()} />)}
        {items && !items.length ? <li class="muted">{query || tag ? t("collector.nothing_matches") : t("collector.nothing_yet")}</li> : null}
      </ul>
      <AddForm onAdded={both} />
    </div>
  );
}

export function openCollector() {
  openDialog({ title: t("collector.collector"), wide: true, body: () => <Collector /> });
}
