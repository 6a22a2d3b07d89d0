// Settings › Custom instructions: about you and how to answer, placed by the server before every
// chat's own system prompt (not on /v1). Saved with PATCH /user/settings {custom_instructions}.
import { useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { t } from "./i18n.js";
import { useLoad } from "./ui/load.js";
import { announce, say } from "./ui/notices.js";

// The server's cap (CUSTOM_INSTRUCTIONS_MAX_CHARS), written into the page; 3,000 when absent.
const maxChars = () => Number(document.getElementById("app")?.dataset.customInstructionsMaxChars) || 3000;

export function CustomInstructions() {
  const { data: settings } = useLoad(() => api("/api/v1/user/settings"));
  const input = useRef(null);
  const [length, setLength] = useState(null); // null: the saved text's, until edited
  const [saving, setSaving] = useState(false);
  if (!settings) return <p class="muted">{t("common.loading")}</p>;
  const max = maxChars();
  const count = length ?? settings.custom_instructions.length;
  const save = async (event) => {
    event.preventDefault();
    setSaving(true);
    try {
      const text = input.current.value;
      const saved = await api("/api/v1/user/settings", { method: "PATCH", body: { custom_instructions: text } });
      input.current.value = saved.custom_instructions;
      setLength(saved.custom_instructions.length);
      say("");
      announce(t(saved.custom_instructions.trim() ? "instructions.saved" : "instructions.cleared"));
    } catch (error) { say(error.message); }
    finally { setSaving(false); }
  };
  return (
    <form class="stack" onSubmit={save}>
      <p class="muted" id="custom-instructions-help">{t("instructions.intro")}</p>
      <label for="custom-instructions">{t("instructions.label")}</label>
      <textarea ref={input} id="custom-instructions" rows="8" maxlength={max} aria-describedby="custom-instructions-help custom-instructions-count"
        placeholder={t("instructions.placeholder")} defaultValue={settings.custom_instructions}
        onInput={(event) => setLength(event.currentTarget.value.length)} />
      <p id="custom-instructions-count" class="muted">{t("instructions.counter", { count, max })}</p>
      <button type="submit" class="primary" disabled={saving}>{t("instructions.save")}</button>
    </form>
  );
}

// Its tab in Settings ([name, panel], as settings.jsx lists them): the name a component, so it
// follows the language.
const TabName = () => t("instructions.tab");
export const INSTRUCTIONS_TAB = [<TabName />, CustomInstructions];
