// The sidebar: every conversation (pages loaded as you scroll), pinned first, then grouped by the
// day of their last activity; search; rename, pin, archive, share, delete; the account's buttons.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { change, loadConversations, remove, showList } from "./conversations.js";
import { dayGroup, groupLabel } from "./dates.js";
import { t } from "./i18n.js";
import { go } from "./router.js";
import { exportItems } from "./settings_data.jsx";
import { openShareDialog } from "./share.jsx";
import { chat, conversationTitle, list, user } from "./state.js";
import { Icon } from "./ui/icons.jsx";
import { MenuButton } from "./ui/menu.jsx";

// Pinned first, then by the day of the last activity in the user's zone (dates.js).
function groupOf(conversation) {
  if (conversation.pinned) return { key: "pinned", label: t("sidebar.pinned") };
  const group = dayGroup(conversation.updated_at);
  return { key: group.key, label: groupLabel(group) };
}

function RenameField({ conversation, onDone }) {
  const input = useRef(null);
  const done = useRef(false);
  useLayoutEffect(() => { input.current.focus(); input.current.select(); }, []);
  const finish = async (save) => {
    if (done.current) return;
    done.current = true;
    const title = input.current.value.trim();
    if (save && title && title !== conversation.title) await change(conversation, { title });
    onDone();
  };
  return (
    <input ref={input} type="text" class="rename" defaultValue={conversation.title || conversationTitle(conversation)}
      maxlength="200" aria-label={t("sidebar.conversation_title")} onBlur={() => finish(true)}
      onKeyDown={(event) => {
        // The Enter that ends a Hangul syllable is the input method's (Safari sends it after
        // compositionend, with keyCode 229), not a save.
        if (event.key === "Enter" && !event.isComposing && event.keyCode !== 229) { event.preventDefault(); finish(true); }
        if (event.key === "Escape") { event.preventDefault(); finish(false); }
      }} />
  );
}

function Row({ conversation, onNavigate }) {
  const [renaming, setRenaming] = useState(false);
  const title = conversationTitle(conversation);
  if (renaming) {
    return <li class="conv" data-id={conversation.id}><RenameField conversation={conversation} onDone={() => setRenaming(false)} /></li>;
  }
  const open = (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // new tab: the browser's
    event.preventDefault();
    onNavigate();
    go(conversation.id);
  };
  return (
    <li class="conv" data-id={conversation.id}>
      <a class="conv-link" href={`/c/${conversation.id}`} title={title}
        aria-current={conversation.id === chat.value.id ? "page" : undefined} onClick={open}>{title}</a>
      <MenuButton label={t("sidebar.options_for", { title })} items={() => [
        { label: t("sidebar.rename"), onSelect: () => setRenaming(true) },
        { label: conversation.pinned ? t("sidebar.unpin") : t("sidebar.pin"), onSelect: () => change(conversation, { pinned: !conversation.pinned }) },
        { label: conversation.archived ? t("sidebar.unarchive") : t("sidebar.archive"), onSelect: () => change(conversation, { archived: !conversation.archived }) },
        { label: t("sidebar.share"), onSelect: () => openShareDialog(conversation) },
        ...exportItems(conversation),
        { label: t("sidebar.delete"), danger: true, onSelect: () => remove(conversation) },
      ]}><Icon name="dots" /></MenuButton>
    </li>
  );
}

// "Load more" at the end of the list loads the next page as soon as it scrolls into view.
function LoadMore() {
  const button = useRef(null);
  useEffect(() => {
    if (!("IntersectionObserver" in window)) return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadConversations({ reset: false });
    }, { root: button.current.closest("nav") });
    observer.observe(button.current);
    return () => observer.disconnect();
  }, []);
  return <button ref={button} type="button" class="link" id="load-more" onClick={() => loadConversations({ reset: false })}>{t("sidebar.load_more")}</button>;
}

function ConversationList({ onNavigate }) {
  const { items, query, archived, next } = list.value;
  const groups = new Map();
  for (const conversation of items) {
    const { key, label } = groupOf(conversation);
    if (!groups.has(key)) groups.set(key, { label, conversations: [] });
    groups.get(key).conversations.push(conversation);
  }
  return (
    <div id="conversation-list">
      {[...groups].map(([key, { label, conversations }]) => {
        const headingId = `group-${key}`;
        return (
          <section key={key} class="conv-group" aria-labelledby={headingId}>
            <h2 id={headingId}>{label}</h2>
            <ul>{conversations.map((c) => <Row key={c.id} conversation={c} onNavigate={onNavigate} />)}</ul>
          </section>
        );
      })}
      {items.length ? null : <p class="muted">{query ? t("sidebar.no_match") : archived ? t("sidebar.no_archived") : t("sidebar.no_conversations")}</p>}
      {next ? <LoadMore /> : null}
    </div>
  );
}

function Search() {
  const timer = useRef(null);
  const onInput = (event) => {
    const query = event.currentTarget.value.trim();
    clearTimeout(timer.current);
    timer.current = setTimeout(() => showList({ query }), 250);
  };
  return <input id="search" type="search" aria-label={t("sidebar.search_label")} placeholder={t("sidebar.search_placeholder")} maxlength="200" onInput={onInput} />;
}

// `newChatRef` takes the focus when the drawer opens; `onClose` closes the drawer (on a phone),
// `onNavigate` is called when a conversation is picked.
export function Sidebar({ newChatRef, onNewChat, onClose, onNavigate, onOpenSettings, onOpenCollector, onSignOut }) {
  const archived = list.value.archived;
  return (
    <aside id="sidebar" aria-label={t("sidebar.sidebar")}>
      <div class="sidebar-top">
        <button ref={newChatRef} id="new-chat" type="button" onClick={onNewChat}><Icon name="compose" /> {t("sidebar.new_chat")}</button>
        <button id="close-sidebar" type="button" class="icon" aria-label={t("sidebar.close_sidebar")} onClick={onClose}><Icon name="close" /></button>
      </div>
      <Search />
      <nav aria-label={t("sidebar.conversations")}><ConversationList onNavigate={onNavigate} /></nav>
      <div class="sidebar-bottom">
        <button id="show-archived" type="button" aria-pressed={String(archived)}
          onClick={() => showList({ archived: !archived })}>{archived ? t("sidebar.back_to_chats") : t("sidebar.archived_chats")}</button>
        <button id="open-collector" type="button" onClick={onOpenCollector}>{t("sidebar.collector")}</button>
        <button id="open-settings" type="button" onClick={onOpenSettings}>{t("sidebar.settings")}</button>
        <button id="sign-out" type="button" onClick={onSignOut}>{t("sidebar.sign_out")}</button>
        <div id="who">{user.value ? user.value.display_name || user.value.email : ""}</div>
      </div>
    </aside>
  );
}
