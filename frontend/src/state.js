// What the page knows right now; every module reads and writes this one object.
export const state = {
  user: null,
  models: [],
  // The sidebar: the pages of conversations loaded so far, and where the next page is.
  list: { items: [], next: null, query: "", archived: false, loading: false },
  // The open chat: id null means a new chat that is created on its first message.
  chat: { id: null, conversation: null, messages: [], draftModel: null, draftSystemPrompt: "" },
  streaming: false,
};

// Tabs of this browser tell each other what changed, so a reply started in one tab shows in the
// others and a rename or delete is seen everywhere without a reload.
const channel = "BroadcastChannel" in window ? new BroadcastChannel("chat.events") : null;
const listeners = [];
export function broadcast(message) { channel?.postMessage(message); }
export function onBroadcast(callback) { listeners.push(callback); }
if (channel) channel.onmessage = (event) => listeners.forEach((callback) => callback(event.data));

export function modelName(slug) {
  const model = state.models.find((m) => m.slug === slug);
  return model ? model.display_name || model.slug : slug || "";
}

export function defaultModel() {
  return (state.models.find((m) => m.is_default) ?? state.models[0])?.slug ?? null;
}
