// An empty chat's starters: ideas from the prompt library (they fill the message box) and sample
// conversations (cloned into the user's own).
import { useEffect } from "preact/hooks";
import { t } from "../i18n.js";
import { chat } from "../state.js";
import { cloneSample, loadStarters, messages, pickStarter, starters } from "./session.js";

const Starter = ({ title, text, onClick }) => (
  <li><button type="button" class="starter" onClick={onClick}><strong>{title}</strong><span>{text}</span></button></li>
);

export function Starters() {
  const shown = chat.value.loaded && !messages.value.length;
  useEffect(() => { if (shown) loadStarters(); }, [shown]);
  const { prompts = [], samples = [] } = starters.value ?? {};
  return (
    <section id="starters" aria-label={t("chat.starters")} hidden={!shown}>
      {shown && starters.value ? (
        <>
          <h2>{t("chat.starters_heading")}</h2>
          {prompts.length ? (
            <ul class="starter-list" aria-label={t("chat.prompt_ideas")}>
              {prompts.slice(0, 6).map((p) => <Starter title={p.title} text={p.text.slice(0, 90)} onClick={() => pickStarter(p)} />)}
            </ul>
          ) : null}
          {samples.length ? <h3>{t("chat.sample_conversations")}</h3> : null}
          {samples.length ? (
            <ul class="starter-list" aria-label={t("chat.sample_conversations")}>
              {samples.slice(0, 4).map((s) => <Starter title={s.title} text={s.description || ""} onClick={() => cloneSample(s)} />)}
            </ul>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
