// A chat's own settings: its system prompt and the collector items given to the model as context.
import { allPages, api } from "./api.js";
import { ensureConversation, renderHeader } from "./chat.js";
import { announce, h, openDialog, say } from "./dom.js";
import { state } from "./state.js";

export async function openChatSettings() {
  const conversation = state.chat.conversation;
  const prompt = h("textarea", { id: "system-prompt", rows: "5", maxlength: "8000",
    placeholder: "How should the assistant answer in this chat? (optional)" });
  prompt.value = conversation ? conversation.system_prompt ?? "" : state.chat.draftSystemPrompt;
  const itemsBox = h("fieldset", { class: "context-items" }, h("legend", {}, "Context from your collector"),
    h("p", { class: "muted" }, "Loading…"));
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const form = h("form", { class: "stack" },
    h("label", { for: "system-prompt" }, "System prompt"), prompt, itemsBox, h("div", { class: "dialog-actions" }, save));
  const dialog = openDialog({ title: "Chat settings", body: form, wide: true });

  let items = [];
  let chosen = new Set();
  try {
    items = await allPages("/api/v1/collector/items?page_size=100", 5);
    if (conversation) chosen = new Set((await api(`/api/v1/conversations/${conversation.id}/context-items`)).item_ids);
    itemsBox.replaceChildren(itemsBox.firstChild, items.length
      ? h("ul", { class: "checklist" }, items.map((item) => h("li", {}, h("label", {},
        h("input", { type: "checkbox", value: String(item.id), checked: chosen.has(item.id) }),
        ` ${item.title || item.url || item.file_name || "Untitled"} `, h("span", { class: "muted" }, `(${item.kind})`)))))
      : h("p", { class: "muted" }, "Your collector is empty: add notes, links and files from Collector in the sidebar."));
  } catch (error) { say(error.message); }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const picked = [...form.querySelectorAll(".checklist input:checked")].map((box) => Number(box.value));
      const changedItems = picked.length !== chosen.size || picked.some((id) => !chosen.has(id));
      if (!state.chat.id && !changedItems) {
        state.chat.draftSystemPrompt = prompt.value; // kept until the first message creates the chat
      } else {
        state.chat.draftSystemPrompt = prompt.value;
        const current = await ensureConversation();
        if ((current.system_prompt ?? "") !== prompt.value) {
          state.chat.conversation = await api(`/api/v1/conversations/${current.id}`, { method: "PATCH", body: { system_prompt: prompt.value } });
        }
        if (changedItems) await api(`/api/v1/conversations/${current.id}/context-items`, { method: "PUT", body: { item_ids: picked } });
        renderHeader();
      }
      announce("Chat settings saved");
      dialog.close();
    } catch (error) { say(error.message); }
    finally { save.disabled = false; }
  });
}
