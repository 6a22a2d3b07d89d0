// The chat header's signs of this chat's own settings (a new chat's chosen settings included,
// before its first message): a small badge for its system prompt or collector items, another for
// its tools (marked when the chat's model cannot call them). Each opens the chat settings.
import { t } from "../i18n.js";
import { chat, models, toolSets } from "../state.js";
import { canUseTools, toolsAvailable } from "../tools.js";
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

export function ToolsBadge() {
  const { id, conversation, draftTools, draftModel } = chat.value;
  const listing = toolSets.value;
  const chosen = (id ? conversation?.tools : draftTools) ?? [];
  // Before the listing is in, the chat's own list; after, only what may still be enabled.
  const on = listing ? toolsAvailable(chosen, listing) : chosen;
  if (!on.length) return null;
  const names = on.map((name) => listing?.find((set) => set.name === name)?.title || name).join(t("tools.separator"));
  const slug = id ? conversation?.model : draftModel;
  const model = models.value.find((m) => m.slug === slug);
  const unusable = Boolean(model) && !canUseTools(model);
  const label = unusable
    ? t("tools.badge_label_unusable", { names, model: model.display_name || model.slug })
    : t("tools.badge_label", { names });
  return (
    <button id="chat-tools-badge" type="button" class={unusable ? "chat-badge unusable" : "chat-badge"} aria-label={label} title={label}
      onClick={openChatSettings}>
      <Icon name="tool" /><span>{t("tools.badge")}</span>{on.length > 1 ? <span>{String(on.length)}</span> : null}
    </button>
  );
}
