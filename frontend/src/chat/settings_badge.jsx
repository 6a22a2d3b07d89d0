// The chat header's sign that this chat has its own system prompt or collector items (a new chat's
// chosen settings included, before its first message): a small badge that opens the chat settings.
import { t } from "../i18n.js";
import { chat } from "../state.js";
import { Icon } from "../ui/icons.jsx";
import { openChatSettings } from "./settings.jsx";

export function ChatSettingsBadge() {
  const { id, conversation, draftSystemPrompt, draftItemIds, itemIds } = chat.value;
  const prompt = Boolean((id ? conversation?.system_prompt : draftSystemPrompt)?.trim());
  const count = (id ? itemIds : draftItemIds).length;
  if (!prompt && !count) return null;
  const label = prompt && count ? t("instructions.has_prompt_and_items", { count })
    : prompt ? t("instructions.has_prompt") : t("instructions.has_items", { count });
  return (
    <button id="chat-settings-badge" type="button" class="chat-badge" aria-label={label} title={label} onClick={openChatSettings}>
      {prompt ? <span>{t("instructions.badge_prompt")}</span> : null}
      {count ? <span class="badge-items"><Icon name="file" />{String(count)}</span> : null}
    </button>
  );
}
