// The open chat on screen: its header (title, model picker, chat settings), its messages (Markdown,
// rendered as they stream, with the tools they called, their notes and actions), the starters and
// the composer.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { t } from "../i18n.js";
import { renderMarkdown } from "../markdown.js";
import { chat, list, modelName, models, streaming } from "../state.js";
import { replyPieces } from "../tools.js";
import { Icon } from "../ui/icons.jsx";
import { MenuButton } from "../ui/menu.jsx";
import { EditBox, FeedbackForm, MessageActions, Versions } from "./actions.jsx";
import { attach } from "./attachments.js";
import { Composer } from "./composer.jsx";
import { linkCitations, MessageFiles, openSource, Sources } from "./files_view.jsx";
import { chooseModel, isLive, messages, scrollToEnd } from "./session.js";
import { openChatSettings } from "./settings.jsx";
import { ChatSettingsBadge, ToolsBadge } from "./settings_badge.jsx";
import { Starters } from "./starters.jsx";
import { ReplyNotices, ToolCalls } from "./tools_view.jsx";

function ModelPicker() {
  const current = chat.value.conversation?.model ?? chat.value.draftModel;
  const name = modelName(current);
  return (
    <MenuButton label={t("chat.model_button", { name: name || t("chat.model_none") })} className="model-button" items={() => models.value.map((model) => ({
      label: model.display_name || model.slug,
      description: model.description,
      checked: model.slug === current,
      onSelect: () => chooseModel(model.slug),
    }))}>
      <span>{name || t("chat.choose_model")}</span><span aria-hidden="true"> ▾</span>
    </MenuButton>
  );
}

// The page's own title names the site (the server writes it): a chat's title goes before it.
const SITE_NAME = document.title || "Chat";

// The chat's title: its own, or the sidebar's row when that knows a newer one (a title is given
// after the first reply), else "New chat"; never a message's text (a reply still being written
// would show as raw Markdown).
export function chatTitle() {
  const { id, conversation } = chat.value;
  const listed = id ? list.value.items.find((c) => c.id === id) : null;
  return conversation?.title || listed?.title || t("chat.new_chat");
}

function Header({ drawerOpen, onOpenDrawer, openerRef }) {
  const conversation = chat.value.conversation;
  const title = chatTitle();
  useEffect(() => { document.title = conversation ? `${title} · ${SITE_NAME}` : SITE_NAME; }, [conversation, title]);
  return (
    <header class="chat-head">
      <button ref={openerRef} id="open-sidebar" type="button" class="icon" aria-label={t("chat.open_sidebar")} aria-controls="sidebar"
        aria-expanded={String(drawerOpen)} onClick={onOpenDrawer}><Icon name="menu" /></button>
      <h1 id="chat-title" title={title}>{title}</h1>
      <ChatSettingsBadge />
      <ToolsBadge />
      <div id="model-slot"><ModelPicker /></div>
      <button id="chat-options" type="button" class="icon" aria-label={t("chat.settings")} title={t("chat.settings")}
        onClick={openChatSettings}><Icon name="sliders" /></button>
    </header>
  );
}

// A reply's Markdown: markdown.js sets the sanitised HTML into this element, whose children Preact
// does not manage (it renders none). Its [n] markers open the reply's source n.
function Markdown({ text, sources, onPainted, className = "body markdown" }) {
  const ref = useRef(null);
  useLayoutEffect(() => { renderMarkdown(ref.current, text); linkCitations(ref.current, sources); onPainted(); }, [text, sources]);
  const onClick = (event) => {
    const n = event.target.closest?.("button.cite")?.dataset.n;
    const source = n && sources?.find((s) => String(s.n) === n);
    if (source) openSource(source);
  };
  return <div ref={ref} class={className} onClick={onClick} />;
}

const Typing = () => <span class="typing" aria-label={t("chat.writing")}><span /><span /><span /></span>;

function Body({ message, onPainted }) {
  const text = message.content ?? "";
  if (message.role !== "assistant") return text ? <div class="body plain">{text}</div> : null;
  // The tools it called, each where the reply was when it called it, between pieces of its text.
  const pieces = replyPieces(text, message.tool_calls);
  if (pieces.some((piece) => piece.kind === "calls")) {
    const last = pieces.at(-1);
    // Between a call's end and the next words: the dots say the reply goes on.
    const waiting = isLive(message) && last.kind === "calls" && !last.calls.some((call) => call.status === "running");
    return (
      <div key="pieces" class="body reply-pieces">
        {pieces.map((piece) => (piece.kind === "calls" ? <ToolCalls key={piece.key} calls={piece.calls} live={isLive(message)} />
          : <Markdown key={piece.key} className="markdown" text={piece.text} sources={message.sources} onPainted={onPainted} />))}
        {waiting ? <Typing /> : null}
      </div>
    );
  }
  if (text) return <Markdown key="markdown" text={text} sources={message.sources} onPainted={onPainted} />;
  return <div key="empty" class="body markdown">{isLive(message) ? <Typing /> : null}</div>;
}

const NOTES = {
  stopped: () => t("chat.note_stopped"),
  interrupted: () => t("chat.note_interrupted"),
  error: (m) => (m.error ? t("chat.note_error_reason", { error: m.error }) : t("chat.note_error")),
};
const noteOf = (m) => NOTES[m.status]?.(m)
  ?? (m.status === "complete" && m.finish_reason === "length" ? t("chat.note_length") : "");

function Message({ message, last, onPainted }) {
  const m = message.value;
  const [editing, setEditing] = useState(false);
  const [feedback, setFeedback] = useState(null); // the rating whose comment form is open
  const who = m.role === "user" ? t("chat.you") : modelName(m.model) || t("chat.assistant");
  const note = noteOf(m);
  return (
    <article class={`msg ${m.role}`} data-id={m.id} data-status={m.status} aria-busy={isLive(m) ? "true" : undefined}
      aria-label={m.role === "user" ? t("chat.you_said") : t("chat.who_said", { who })}>
      <div class="who">{who}</div>
      {m.role === "user" ? <MessageFiles files={m.attachments} /> : null}
      {editing
        ? <div class="body plain"><EditBox message={message} onCancel={() => setEditing(false)} /></div>
        : <Body message={m} onPainted={onPainted} />}
      {m.role === "assistant" ? <Sources sources={m.sources} /> : null}
      {m.role === "assistant" ? <ReplyNotices notices={m.notices} /> : null}
      <p class={m.status === "error" ? "note bad" : "note"} hidden={!note}>{note}</p>
      <div class="actions">
        {editing ? null : <Versions message={message} />}
        {editing ? null : <MessageActions message={message} last={last} onEdit={() => setEditing(true)} onRated={setFeedback} />}
      </div>
      {feedback ? <FeedbackForm key={feedback} message={message} rating={feedback} onClose={() => setFeedback(null)} /> : null}
    </article>
  );
}

const nearBottom = (box) => box.scrollHeight - box.scrollTop - box.clientHeight < 120;

function Log() {
  const box = useRef(null);
  const list = messages.value;
  // Asked for (a chat loaded, a message sent): to the end. After a repaint: only if the reader was
  // already there.
  const scrollAsked = scrollToEnd.value;
  useLayoutEffect(() => { box.current.scrollTop = box.current.scrollHeight; }, [scrollAsked]);
  const onPainted = () => { if (box.current && nearBottom(box.current)) box.current.scrollTop = box.current.scrollHeight; };
  const lastUser = list.findLast((m) => m.peek().role === "user");
  const lastReply = list.findLast((m) => m.peek().role === "assistant");
  return (
    // While a reply streams, screen readers wait for it instead of reading every token; the end is
    // announced ("Reply finished").
    <div ref={box} id="messages" role="log" aria-label={t("chat.messages")} aria-busy={String(streaming.value)}>
      {list.map((message) => (
        <Message key={message.key} message={message} last={message === lastUser || message === lastReply} onPainted={onPainted} />
      ))}
    </div>
  );
}

// Files dragged over the chat: a drop zone covers it until they are dropped (attached) or leave.
const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");

function useDropZone() {
  const [over, setOver] = useState(false);
  const depth = useRef(0); // dragenter/dragleave fire for every child crossed
  // A file dropped beside the chat (the sidebar, a margin) must not make the browser leave the
  // page to show it.
  useEffect(() => {
    const refuse = (event) => { if (carriesFiles(event)) event.preventDefault(); };
    window.addEventListener("dragover", refuse);
    window.addEventListener("drop", refuse);
    return () => { window.removeEventListener("dragover", refuse); window.removeEventListener("drop", refuse); };
  }, []);
  return [over, {
    onDragEnter: (event) => { if (!carriesFiles(event)) return; event.preventDefault(); depth.current += 1; setOver(true); },
    onDragOver: (event) => { if (!carriesFiles(event)) return; event.preventDefault(); event.dataTransfer.dropEffect = "copy"; },
    onDragLeave: (event) => { if (!carriesFiles(event)) return; depth.current = Math.max(0, depth.current - 1); if (!depth.current) setOver(false); },
    onDrop: (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth.current = 0;
      setOver(false);
      attach([...event.dataTransfer.files]);
    },
  }];
}

export function ChatView({ maxChars, drawerOpen, onOpenDrawer, openerRef }) {
  const [over, dropHandlers] = useDropZone();
  return (
    <main id="chat" aria-label={t("chat.chat")} class={over ? "dragging" : undefined} {...dropHandlers}>
      <Header drawerOpen={drawerOpen} onOpenDrawer={onOpenDrawer} openerRef={openerRef} />
      <Log />
      <Starters />
      <Composer maxChars={maxChars} />
      {over ? <div class="drop-zone" aria-hidden="true"><p>{t("chat.drop_files")}</p></div> : null}
    </main>
  );
}
