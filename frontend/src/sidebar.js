// The conversation list: every conversation (pages loaded as you scroll), pinned first, then
// grouped by the day of their last activity; search; rename, pin, archive, share, delete.
import { api } from "./api.js";
import { $, announce, confirmDialog, h, icon, menuButton, say } from "./dom.js";
import { go } from "./router.js";
import { openShareDialog } from "./share.js";
import { broadcast, state } from "./state.js";

const PAGE_SIZE = 30;
let observer = null;
let generation = 0; // a newer load makes older answers irrelevant (typing in the search box)

export const conversationTitle = (c) => c.title || c.last_message_preview?.slice(0, 60) || "New chat";

export async function loadConversations({ reset = true } = {}) {
  const list = state.list;
  if (!reset && (!list.next || list.loading)) return;
  const mine = ++generation;
  list.loading = true;
  try {
    // A refresh (after a reply, a rename...) keeps as many rows as were loaded by scrolling.
    const size = reset ? Math.min(100, Math.max(PAGE_SIZE, list.items.length)) : PAGE_SIZE;
    const params = new URLSearchParams({ page_size: String(size), archived: String(list.archived) });
    if (list.query) params.set("q", list.query);
    const path = reset ? `/api/v1/conversations?${params}` : list.next;
    const page = await api(path);
    if (mine !== generation) return;
    list.items = reset ? page.results : [...list.items, ...page.results.filter((c) => !list.items.some((o) => o.id === c.id))];
    list.next = page.next ? ((u) => u.pathname + u.search)(new URL(page.next)) : null;
    render();
  } catch (error) {
    if (mine === generation) say(`Could not load your conversations: ${error.message}`);
  } finally {
    if (mine === generation) list.loading = false;
  }
}

// Today, Yesterday, Previous 7 days, Previous 30 days, then by month: as ChatGPT groups them.
function groupOf(conversation, now = new Date()) {
  if (conversation.pinned) return "Pinned";
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const when = new Date(conversation.updated_at);
  const days = Math.round((day(now) - day(when)) / 86400000);
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days <= 7) return "Previous 7 days";
  if (days <= 30) return "Previous 30 days";
  return when.toLocaleDateString(undefined, { month: "long", year: "numeric" });
}

export function render() {
  const container = $("#conversation-list");
  const groups = new Map();
  for (const conversation of state.list.items) {
    const name = groupOf(conversation);
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(conversation);
  }
  const sections = [...groups].map(([name, conversations]) => {
    const headingId = `group-${name.replace(/\W+/g, "-").toLowerCase()}`;
    return h("section", { class: "conv-group", "aria-labelledby": headingId },
      h("h2", { id: headingId }, name),
      h("ul", {}, conversations.map(item)));
  });
  const empty = state.list.items.length ? null
    : h("p", { class: "muted" }, state.list.query ? "No conversation matches." : state.list.archived ? "No archived chats." : "No conversations yet.");
  const more = state.list.next ? h("button", { type: "button", class: "link", id: "load-more",
    onclick: () => loadConversations({ reset: false }) }, "Load more") : null;
  container.replaceChildren(...sections, empty ?? "", more ?? "");
  observer?.disconnect();
  if (more && "IntersectionObserver" in window) {
    observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadConversations({ reset: false });
    }, { root: $("#sidebar nav") });
    observer.observe(more);
  }
}

function item(conversation) {
  const title = conversationTitle(conversation);
  const link = h("a", {
    class: "conv-link", href: `/c/${conversation.id}`, title,
    "aria-current": conversation.id === state.chat.id ? "page" : undefined,
    onclick: (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // new tab: let the browser do it
      event.preventDefault();
      go(conversation.id);
    },
  }, title);
  const options = menuButton({
    label: `Options for ${title}`,
    content: icon("dots"),
    items: () => [
      { label: "Rename", onSelect: () => startRename(row, conversation) },
      { label: conversation.pinned ? "Unpin" : "Pin", onSelect: () => change(conversation, { pinned: !conversation.pinned }) },
      { label: conversation.archived ? "Unarchive" : "Archive", onSelect: () => change(conversation, { archived: !conversation.archived }) },
      { label: "Share", onSelect: () => openShareDialog(conversation) },
      { label: "Delete", danger: true, onSelect: () => remove(conversation) },
    ],
  });
  const row = h("li", { class: "conv", dataset: { id: conversation.id } }, link, options);
  return row;
}

function startRename(row, conversation) {
  const input = h("input", { type: "text", class: "rename", value: conversation.title || conversationTitle(conversation),
    maxlength: "200", "aria-label": "Conversation title" });
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    const title = input.value.trim();
    if (save && title && title !== conversation.title) await change(conversation, { title });
    else render();
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); finish(true); }
    if (event.key === "Escape") { event.preventDefault(); finish(false); }
  });
  input.addEventListener("blur", () => finish(true));
  row.replaceChildren(input);
  input.focus();
  input.select();
}

export async function change(conversation, fields) {
  try {
    const updated = await api(`/api/v1/conversations/${conversation.id}`, { method: "PATCH", body: fields });
    Object.assign(conversation, updated);
    if (state.chat.id === updated.id) {
      state.chat.conversation = updated;
      document.dispatchEvent(new CustomEvent("conversation-changed"));
    }
    broadcast({ type: "changed", id: updated.id });
    if ("archived" in fields) announce(fields.archived ? "Archived" : "Unarchived");
    if ("pinned" in fields) announce(fields.pinned ? "Pinned" : "Unpinned");
    await loadConversations();
  } catch (error) {
    say(error.message);
    render();
  }
}

async function remove(conversation) {
  const ok = await confirmDialog({ title: "Delete chat?", text: `This deletes “${conversationTitle(conversation)}” and its messages for good.`, confirm: "Delete" });
  if (!ok) return;
  try {
    await api(`/api/v1/conversations/${conversation.id}`, { method: "DELETE" });
    broadcast({ type: "deleted", id: conversation.id });
    announce("Chat deleted");
    if (state.chat.id === conversation.id) go(null);
    await loadConversations();
  } catch (error) { say(error.message); }
}

export function setupSidebar() {
  let timer = null;
  $("#search").addEventListener("input", (event) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.list.query = event.target.value.trim();
      state.list.items = []; // another list: start from its first page
      loadConversations();
    }, 250);
  });
  $("#show-archived").addEventListener("click", (event) => {
    state.list.archived = !state.list.archived;
    state.list.items = [];
    event.currentTarget.setAttribute("aria-pressed", String(state.list.archived));
    event.currentTarget.textContent = state.list.archived ? "Back to chats" : "Archived chats";
    loadConversations();
  });
}
