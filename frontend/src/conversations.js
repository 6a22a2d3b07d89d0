// The conversation list the sidebar shows (pages loaded as you scroll, a search, archived or not)
// and what can be done to a conversation from it: rename, pin, archive, delete.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { go } from "./router.js";
import { broadcast, chat, conversationTitle, list } from "./state.js";
import { confirmDialog } from "./ui/dialogs.jsx";
import { announce, say } from "./ui/notices.js";

const PAGE_SIZE = 30;
let generation = 0; // a newer load makes older answers irrelevant (typing in the search box)
const rel = (url) => ((u) => u.pathname + u.search)(new URL(url));

const update = (fields) => { list.value = { ...list.value, ...fields }; };

export async function loadConversations({ reset = true } = {}) {
  const current = list.value;
  if (!reset && (!current.next || current.loading)) return;
  const mine = ++generation;
  update({ loading: true });
  try {
    // A refresh (after a reply, a rename...) keeps as many rows as were loaded by scrolling.
    const size = reset ? Math.min(100, Math.max(PAGE_SIZE, current.items.length)) : PAGE_SIZE;
    const params = new URLSearchParams({ page_size: String(size), archived: String(current.archived) });
    if (current.query) params.set("q", current.query);
    const page = await api(reset ? `/api/v1/conversations?${params}` : current.next);
    if (mine !== generation) return;
    const items = list.value.items;
    update({
      items: reset ? page.results : [...items, ...page.results.filter((c) => !items.some((o) => o.id === c.id))],
      next: page.next ? rel(page.next) : null,
    });
  } catch (error) {
    if (mine === generation) say(t("shell.load_conversations_failed", { error: error.message }));
  } finally {
    if (mine === generation) update({ loading: false });
  }
}

// Another list (a search, archived chats): start from its first page.
export function showList(fields) {
  update({ ...fields, items: [] });
  return loadConversations();
}

export async function change(conversation, fields) {
  try {
    const updated = await api(`/api/v1/conversations/${conversation.id}`, { method: "PATCH", body: fields });
    update({ items: list.value.items.map((c) => (c.id === updated.id ? { ...c, ...updated } : c)) });
    if (chat.value.id === updated.id) chat.value = { ...chat.value, conversation: updated };
    broadcast({ type: "changed", id: updated.id });
    if ("archived" in fields) announce(fields.archived ? t("shell.archived") : t("shell.unarchived"));
    if ("pinned" in fields) announce(fields.pinned ? t("shell.pinned") : t("shell.unpinned"));
    await loadConversations();
  } catch (error) {
    say(error.message);
  }
}

export async function remove(conversation) {
  const ok = await confirmDialog({ title: t("shell.delete_chat_title"), text: t("shell.delete_chat_text", { title: conversationTitle(conversation) }), confirm: t("common.delete") });
  if (!ok) return;
  try {
    await api(`/api/v1/conversations/${conversation.id}`, { method: "DELETE" });
    broadcast({ type: "deleted", id: conversation.id });
    announce(t("shell.chat_deleted"));
    if (chat.value.id === conversation.id) go(null);
    await loadConversations();
  } catch (error) { say(error.message); }
}
