// The sidebar: every conversation (pages loaded as you scroll), pinned first, then grouped by the
// day of their last activity; search; rename, pin, archive, share, delete; the account's buttons.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { change, loadConversations, remove, showList } from "./conversations.js";
import { go } from "./router.js";
import { exportItems } from "./settings_data.jsx";
import { openShareDialog } from "./share.jsx";
import { chat, conversationTitle, list, user } from "./state.js";
import { Icon } from "./ui/icons.jsx";
import { MenuButton } from "./ui/menu.jsx";

// Today, Yesterday, Previous 7 days, Previous 30 days, then by month: as ChatGPT groups them.
function groupOf(conversation, now = new Date()) {
  if (conversation.pinned) return "Pinned";
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const when = new Date(conversation.updated_at);
  const days = Math.round((day(now) - day(when)) / 86400000);
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days <= 7) return "Previous 7 days";
  if (days <= 30) return "Previous 30 days";
  return when.toLocaleDateString(undefined, { month: "long", year: "numeric" });
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
      maxlength="200" aria-label="Conversation title" onBlur={() => finish(true)}
      onKeyDown={(event) => {
        if (event.key === "Enter") { event.preventDefault(); finish(true); }
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
      <MenuButton label={`Options for ${title}`} items={() => [
        { label: "Rename", onSelect: () => setRenaming(true) },
        { label: conversation.pinned ? "Unpin" : "Pin", onSelect: () => change(conversation, { pinned: !conversation.pinned }) },
        { label: conversation.archived ? "Unarchive" : "Archive", onSelect: () => change(conversation, { archived: !conversation.archived }) },
        { label: "Share", onSelect: () => openShareDialog(conversation) },
        ...exportItems(conversation),
        { label: "Delete", danger: true, onSelect: () => remove(conversation) },
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
  return <button ref={button} type="button" class="link" id="load-more" onClick={() => loadConversations({ reset: false })}>Load more</button>;
}

function ConversationList({ onNavigate }) {
  const { items, query, archived, next } = list.value;
  const groups = new Map();
  for (const conversation of items) {
    const name = groupOf(conversation);
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(conversation);
  }
  return (
    <div id="conversation-list">
      {[...groups].map(([name, conversations]) => {
        const headingId = `group-${name.replace(/\W+/g, "-").toLowerCase()}`;
        return (
          <section key={name} class="conv-group" aria-labelledby={headingId}>
            <h2 id={headingId}>{name}</h2>
            <ul>{conversations.map((c) => <Row key={c.id} conversation={c} onNavigate={onNavigate} />)}</ul>
          </section>
        );
      })}
      {items.length ? null : <p class="muted">{query ? "No conversation matches." : archived ? "No archived chats." : "No conversations yet."}</p>}
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
  return <input id="search" type="search" aria-label="Search conversations" placeholder="Search chats" maxlength="200" onInput={onInput} />;
}

// `newChatRef` takes the focus when the drawer opens; `onClose` closes the drawer (on a phone),
// `onNavigate` is called when a conversation is picked.
export function Sidebar({ newChatRef, onNewChat, onClose, onNavigate, onOpenSettings, onOpenCollector, onSignOut }) {
  const archived = list.value.archived;
  return (
    <aside id="sidebar" aria-label="Sidebar">
      <div class="sidebar-top">
        <button ref={newChatRef} id="new-chat" type="button" onClick={onNewChat}><Icon name="compose" /> New chat</button>
        <button id="close-sidebar" type="button" class="icon" aria-label="Close sidebar" onClick={onClose}><Icon name="close" /></button>
      </div>
      <Search />
      <nav aria-label="Conversations"><ConversationList onNavigate={onNavigate} /></nav>
      <div class="sidebar-bottom">
        <button id="show-archived" type="button" aria-pressed={String(archived)}
          onClick={() => showList({ archived: !archived })}>{archived ? "Back to chats" : "Archived chats"}</button>
        <button id="open-collector" type="button" onClick={onOpenCollector}>Collector</button>
        <button id="open-settings" type="button" onClick={onOpenSettings}>Settings</button>
        <button id="sign-out" type="button" onClick={onSignOut}>Sign out</button>
        <div id="who">{user.value ? user.value.display_name || user.value.email : ""}</div>
      </div>
    </aside>
  );
}
