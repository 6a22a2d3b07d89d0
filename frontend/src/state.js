// What the page knows right now, as signals: a component that reads one re-renders when it changes,
// and code outside components (the stream, other tabs) changes them by assigning `.value`.
import { signal } from "@preact/signals";
import { t } from "./i18n.js";
import { cutAtWord } from "./titles.js";

export const user = signal(null);
export const models = signal([]);
// The sidebar: the pages of conversations loaded so far, and where the next page is.
export const list = signal({ items: [], next: null, query: "", archived: false, loading: false });
// The open chat: id null means a new chat that is created on its first message; `loaded` once its
// messages are in. A new chat's settings (draft*) stay here until its first message creates it;
// `itemIds` are an open chat's collector items (chat/session.js); its tools are its conversation's.
export const emptyChat = () => ({ id: null, conversation: null, draftModel: null, draftSystemPrompt: "", draftItemIds: [],
  draftTools: [], itemIds: [], loaded: false });
export const chat = signal(emptyChat());
// What this user may enable in a chat (GET /api/v1/tools): null until loaded.
export const toolSets = signal(null);
// A reply of the open chat is being followed.
export const streaming = signal(false);

// Tabs of this browser tell each other what changed, so a reply started in one tab shows in the
// others and a rename or delete is seen everywhere without a reload.
const channel = "BroadcastChannel" in window ? new BroadcastChannel("chat.events") : null;
const listeners = [];
export function broadcast(message) { channel?.postMessage(message); }
export function onBroadcast(callback) { listeners.push(callback); }
if (channel) channel.onmessage = (event) => listeners.forEach((callback) => callback(event.data));

export function modelName(slug) {
  const model = models.value.find((m) => m.slug === slug);
  return model ? model.display_name || model.slug : slug || "";
}

export function defaultModel() {
  return (models.value.find((m) => m.is_default) ?? models.value[0])?.slug ?? null;
}

// An untitled chat shows the start of its last message, cut at a word.
export const conversationTitle = (c) => c.title || cutAtWord(c.last_message_preview, 60) || t("shell.new_chat");
