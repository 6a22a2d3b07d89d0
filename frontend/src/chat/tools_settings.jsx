// A chat's tools in its settings dialog: what this user may enable (GET /api/v1/tools) as
// checkboxes, with a word when the chat's model cannot call tools. Hidden when there is nothing
// to enable. The chat's choice is saved with the dialog (chat/settings.jsx, session.js).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { toolSets } from "../state.js";
import { canUseTools } from "../tools.js";

// The listing, kept for the header's badge (names by title); asked again when the dialog opens.
export async function loadToolSets() {
  try {
    const listing = await api("/api/v1/tools");
    toolSets.value = Array.isArray(listing) ? listing : listing?.results ?? [];
  } catch { toolSets.value = toolSets.peek() ?? null; } // the chat works without: no tools offered
  return toolSets.peek();
}

// The names ticked in the dialog's form.
export const pickedTools = (form) => [...form.querySelectorAll(".chat-tools input:checked")].map((box) => box.value);

export function ToolsFieldset({ listing, chosen, model }) {
  if (!listing?.length) return null;
  const names = (set) => (set.tools ?? []).map((tool) => tool.name).join(t("tools.separator"));
  return (
    <fieldset class="chat-tools">
      <legend>{t("tools.legend")}</legend>
      <p class="muted hint">{t("tools.hint")}</p>
      {model && !canUseTools(model)
        ? <p class="tools-warning" role="note">{t("tools.model_cannot", { model: model.display_name || model.slug })}</p>
        : null}
      <ul class="checklist">
        {listing.map((set) => (
          <li key={set.name}><label>
            <input type="checkbox" value={set.name} defaultChecked={chosen.includes(set.name)} />
            {` ${set.title || set.name}`}
            {set.description ? <span class="muted">{` · ${set.description}`}</span> : null}
            {set.kind === "mcp" && set.tools?.length ? <span class="tool-offers muted">{t("tools.offers", { names: names(set) })}</span> : null}
          </label></li>
        ))}
      </ul>
    </fieldset>
  );
}
