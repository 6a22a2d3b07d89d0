// What can be done to one message: copy, regenerate, rate (with an optional comment), edit, branch
// in a new chat, and its versions (‹ n/m ›).
import { useLayoutEffect, useRef } from "preact/hooks";
import { t } from "../i18n.js";
import { streaming } from "../state.js";
import { Icon } from "../ui/icons.jsx";
import { MenuButton } from "../ui/menu.jsx";
import { copyText } from "../ui/notices.js";
import { branch, comment, continueReply, edit, isLive, rate, regenerate, settling, showVersion } from "./session.js";

// Enter sends (Shift+Enter: a new line), except on touch keyboards, whose Enter is the only way to
// a new line; there the send button sends. Never the Enter of an input method (Korean, Japanese...):
// during composition `isComposing` says so, and WebKit sends the Enter that commits the last Hangul
// syllable after compositionend, with only keyCode 229 to tell.
const touch = window.matchMedia("(pointer: coarse)");
export const composing = (event) => event.isComposing || event.keyCode === 229;
export const enterSends = (event) => event.key === "Enter" && !event.shiftKey && !composing(event) && !touch.matches;

const IconButton = ({ label, title = label, icon, ...props }) => (
  <button type="button" class="icon" aria-label={label} title={title} {...props}><Icon name={icon} /></button>
);

// A reply that stopped at the model's output limit: the last one can go on (a new reply continues it).
const cutOff = (m) => m.status === "complete" && m.finish_reason === "length";

// `last`: this is the last question or the last reply (only the last reply can be continued). Any
// question can be edited and any reply regenerated (a new version beside it), while no reply of
// this chat is being followed.
export function MessageActions({ message, last, onEdit, onRated }) {
  const m = message.value;
  if (isLive(m) || settling.value) return null;
  const idle = !streaming.value;
  const text = m.content ?? "";
  return (
    <>
      {text ? <IconButton label={t("chat.copy_message")} title={t("chat.copy")} icon="copy" onClick={() => copyText(text)} /> : null}
      {m.role === "assistant" && idle ? <IconButton label={t("chat.regenerate")} icon="regenerate" onClick={() => regenerate(m)} /> : null}
      {m.role === "assistant" && text ? [["up", t("chat.good_reply")], ["down", t("chat.bad_reply")]].map(([rating, label]) => (
        <IconButton label={label} icon={rating} aria-pressed={String(m.my_rating === rating)}
          onClick={async () => { if (await rate(message, rating)) onRated(rating); }} />
      )) : null}
      {m.role === "user" && idle ? <IconButton label={t("chat.edit_message")} title={t("chat.edit")} icon="edit" onClick={onEdit} /> : null}
      {m.role === "assistant" && last && idle && cutOff(m)
        ? <button type="button" class="continue" title={t("continue.hint")} onClick={() => continueReply(message)}>{t("continue.button")}</button>
        : null}
      {m.role === "assistant" ? ( // as in ChatGPT: a branch ends on a reply, ready for the next question
        <span class="more">
          <MenuButton label={t("chat.more_actions")} items={() => [{ label: t("chat.branch"), onSelect: () => branch(m) }]}>
            <Icon name="dots" />
          </MenuButton>
        </span>
      ) : null}
    </>
  );
}

// ‹ n/m ›: which of a message's versions (its siblings) is shown, and the arrows to the others.
export function Versions({ message }) {
  const m = message.value;
  const ids = m.sibling_ids ?? [];
  if (ids.length < 2) return null;
  const n = ids.indexOf(m.id) + 1;
  const busy = settling.value;
  return (
    <span class="versions" role="group" aria-label={t("chat.versions")}>
      <IconButton label={t("chat.previous_version")} icon="previous" disabled={busy || n <= 1}
        onClick={() => showVersion(ids[n - 2], { n: n - 1, m: ids.length })} />
      <span class="version-count">{`${n}/${ids.length}`}</span>
      <IconButton label={t("chat.next_version")} icon="next" disabled={busy || n >= ids.length}
        onClick={() => showVersion(ids[n], { n: n + 1, m: ids.length })} />
    </span>
  );
}

// After a rating: an optional comment on it.
export function FeedbackForm({ message, rating, onClose }) {
  const field = useRef(null);
  const form = useRef(null);
  // All of it in view (its buttons too, not only the field the focus scrolls to), within the log:
  // above the composer, on a phone too.
  useLayoutEffect(() => {
    field.current.focus({ preventScroll: true });
    form.current.scrollIntoView({ block: "nearest" });
  }, [rating]);
  const submit = async (event) => {
    event.preventDefault();
    if (await comment(message, rating, field.current.value)) onClose();
  };
  return (
    <form ref={form} class="feedback-form" onSubmit={submit}>
      <textarea ref={field} rows="2" maxlength="2000" aria-label={t("chat.feedback_comment")}
        placeholder={t(rating === "up" ? "chat.feedback_good_placeholder" : "chat.feedback_bad_placeholder")} />
      <div>
        <button type="button" onClick={onClose}>{t("common.close")}</button>
        <button type="submit" class="primary">{t("chat.send_feedback")}</button>
      </div>
    </form>
  );
}

// A question, edited in place and sent as a new version of it (the old one and what followed it
// stay, one arrow away).
export function EditBox({ message, onCancel }) {
  const field = useRef(null);
  useLayoutEffect(() => field.current.focus(), []);
  const submit = () => edit(message.peek(), field.current.value);
  return (
    <>
      <textarea ref={field} class="edit-box" aria-label={t("chat.edited_message")} rows="3" defaultValue={message.peek().content ?? ""}
        onKeyDown={(event) => {
          if (event.key === "Escape") { event.preventDefault(); onCancel(); }
          if (enterSends(event)) { event.preventDefault(); submit(); }
        }} />
      <div class="edit-actions">
        <button type="button" onClick={onCancel}>{t("common.cancel")}</button>
        <button type="button" class="primary" onClick={submit}>{t("chat.send_edited")}</button>
      </div>
    </>
  );
}
