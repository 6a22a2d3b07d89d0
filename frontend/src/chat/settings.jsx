// A chat's own settings: its system prompt, the collector items given to the model as context, and
// the tools its replies may call. A new chat's stay in the client until its first message creates
// it with them (session.js).
import { useRef, useState } from "preact/hooks";
import { allPages, api } from "../api.js";
import { t } from "../i18n.js";
import { chat } from "../state.js";
import { openDialog } from "../ui/dialogs.jsx";
import { FileStatus } from "../ui/file_status.jsx";
import { useLoad } from "../ui/load.js";
import { announce, say } from "../ui/notices.js";
import { toolsAvailable } from "../tools.js";
import { currentModel, saveChatSettings } from "./session.js";
import { loadToolSets, pickedTools, ToolsFieldset } from "./tools_settings.jsx";

const KINDS = { note: "chat.kind_note", link: "chat.kind_link", file: "chat.kind_file" };

function ChatSettings({ close }) {
  const { conversation, id, itemIds, draftItemIds, draftTools } = chat.peek();
  const prompt = useRef(null);
  const form = useRef(null);
  const [saving, setSaving] = useState(false);
  const { data, loading } = useLoad(async () => {
    const [items, tools] = await Promise.all([allPages("/api/v1/collector/items?page_size=100", 5), loadToolSets()]);
    const chosen = id ? (await api(`/api/v1/conversations/${id}/context-items`)).item_ids : draftItemIds;
    return { items, chosen: new Set(chosen), tools };
  });
  const chatTools = (id ? conversation?.tools : draftTools) ?? [];

  const submit = async (event) => {
    event.preventDefault();
    setSaving(true);
    try {
      // Items not listed (past the first pages loaded) stay chosen.
      const listed = new Set((data?.items ?? []).map((item) => item.id));
      const picked = [...form.current.querySelectorAll(".context-items input:checked")].map((box) => Number(box.value));
      const kept = [...(data?.chosen ?? new Set(id ? itemIds : draftItemIds))].filter((item) => !listed.has(item));
      // Tools only when the choice changed (a failed listing, or a tool no longer offered, leaves
      // the chat's as they are).
      const ticked = data?.tools ? pickedTools(form.current) : null;
      const before = toolsAvailable(chatTools, data?.tools);
      const tools = ticked && !(ticked.length === before.length && ticked.every((name) => before.includes(name))) ? ticked : undefined;
      await saveChatSettings({ systemPrompt: prompt.current.value, itemIds: [...kept, ...picked], tools });
      announce(t("chat.settings_saved"));
      close();
    } catch (error) { say(error.message); }
    finally { setSaving(false); }
  };

  return (
    <form ref={form} class="stack" onSubmit={submit}>
      <label for="system-prompt">{t("chat.system_prompt")}</label>
      <textarea ref={prompt} id="system-prompt" rows="5" maxlength="8000" placeholder={t("chat.system_prompt_placeholder")}
        defaultValue={conversation ? conversation.system_prompt ?? "" : chat.peek().draftSystemPrompt} />
      <fieldset class="context-items">
        <legend>{t("chat.context_items")}</legend>
        {loading || !data ? <p class="muted">{t("common.loading")}</p> : data.items.length ? (
          <ul class="checklist">
            {data.items.map((item) => (
              <li key={item.id}><label>
                <input type="checkbox" value={String(item.id)} defaultChecked={data.chosen.has(item.id)} />
                {` ${item.title || item.url || item.file_name || t("chat.untitled")} `}<span class="muted">{`(${KINDS[item.kind] ? t(KINDS[item.kind]) : item.kind})`}</span><FileStatus item={item} />
              </label></li>
            ))}
          </ul>
        ) : <p class="muted">{t("chat.collector_empty")}</p>}
      </fieldset>
      {data ? <ToolsFieldset listing={data.tools} chosen={toolsAvailable(chatTools, data.tools)} model={currentModel()} /> : null}
      <div class="dialog-actions"><button type="submit" class="primary" disabled={saving}>{t("common.save")}</button></div>
    </form>
  );
}

export function openChatSettings() {
  openDialog({ title: t("chat.settings"), wide: true, body: (close) => <ChatSettings close={close} /> });
}
