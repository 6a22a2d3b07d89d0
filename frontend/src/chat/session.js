// The open chat, as state and what can be done to it: open, send, regenerate, edit, stop, rate,
// show another version of a message (‹ n/m ›), branch in a new chat, and following its reply
// (stream.js does the resuming; this paints what it says). No markup: the components of chat/
// render these signals.
import { batch, signal } from "@preact/signals";
import { SignedOut, api, problem, request } from "../api.js";
import { loadConversations } from "../conversations.js";
import { t } from "../i18n.js";
import { go, setAddress } from "../router.js";
import { broadcast, chat, defaultModel, emptyChat, modelName, models, onBroadcast, streaming, toolSets, user } from "../state.js";
import { attachmentIds, sendBlocker } from "../files.js";
import { followReply, replyFields, sendForStream } from "../stream.js";
import { announce, say } from "../ui/notices.js";
import { attachments, clearAttachments } from "./attachments.js";

const LIVE = ["pending", "streaming"];
export const isLive = (message) => LIVE.includes(message.status);

// The messages shown, oldest first: one signal per message, so a streamed delta re-renders only
// its own message.
export const messages = signal([]);
export const draft = signal(""); // the composer's text
export const sending = signal(false);
// True while a regenerated or edited chat, or another version, reloads: the replaced messages must
// not be acted on.
export const settling = signal(false);
export const starters = signal(null); // {prompts, samples}, loaded once per sign-in
// Bumped to ask the composer for the focus, and the log to scroll to its end.
export const composerFocus = signal(0);
export const scrollToEnd = signal(0);

let follower = null; // the reply being followed: {control, messageId}
let opening = 0; // a newer openChat makes the answers of older ones irrelevant
let resending = false; // a regenerate or an edit on its way: a second click would only get a 409

const rel = (url) => ((u) => u.pathname + u.search)(new URL(url, location.origin));
const setChat = (fields) => { chat.value = { ...chat.value, ...fields }; };

// A message's signal, with a key of its own: a list loaded again is new components (no edit box
// or comment form left open on a replaced message).
let keys = 0;
function entry(message) {
  const held = signal(message);
  held.key = ++keys;
  return held;
}
function show(list) { messages.value = list.map(entry); }
function find(id) { return messages.value.find((m) => m.peek().id === id); }
function patch(message, fields) { message.value = { ...message.peek(), ...fields }; }

// --- opening a chat --------------------------------------------------------------------------

export async function openChat(id) {
  const mine = ++opening;
  stopFollowing();
  show([]);
  // A new chat opened again keeps the settings chosen for it (model, system prompt, items, tools).
  const before = chat.peek().id === null && !id ? chat.peek() : emptyChat();
  chat.value = { ...emptyChat(), id, draftModel: before.draftModel ?? defaultModel(),
    draftSystemPrompt: before.draftSystemPrompt, draftItemIds: before.draftItemIds, draftTools: before.draftTools, loaded: !id };
  streaming.value = false;
  if (!id) { composerFocus.value += 1; return; }
  try {
    const [conversation, context] = await Promise.all([
      api(`/api/v1/conversations/${id}`),
      api(`/api/v1/conversations/${id}/context-items`).catch(() => ({ item_ids: [] })), // for the header's indicator
    ]);
    if (mine !== opening) return;
    setChat({ conversation, itemIds: context.item_ids });
    await loadMessages(mine);
  } catch (error) {
    if (mine !== opening || error instanceof SignedOut) return;
    if (error.status === 404) {
      say(t("chat.not_found"));
      go(null, { replace: true });
    } else say(error.message);
  }
}

// `reply`: the stream of a reply just asked for (see `opened`), followed if it is the last message.
async function loadMessages(mine = opening, reply = null) {
  let followed = false;
  try {
    const id = chat.peek().id;
    const list = [];
    let path = `/api/v1/conversations/${id}/messages`;
    while (path) { // cursor pages, oldest first
      const page = await api(path);
      if (mine !== opening) return;
      list.push(...page.results);
      path = page.next ? rel(page.next) : null;
    }
    stopFollowing();
    streaming.value = false; // a reply followed on another branch goes on there; this path's is followed below
    show(list);
    setChat({ loaded: true });
    scrollToEnd.value += 1;
    const last = list.at(-1);
    // A reply still being generated (just asked for, started in another tab, or before a reload): attach to it.
    if (last?.role === "assistant" && isLive(last)) {
      followed = reply?.messageId === last.id;
      follow(id, last.id, followed ? reply : null);
    }
  } finally {
    if (!followed) reply?.control.abort(); // the reply goes on on the server; its stream is not needed
  }
}

// A send's answer (sendForStream's): the reply's own stream, to follow, when the server sent it.
const streamOf = (answer, control) => (answer.opened
  ? { opened: answer.opened, lastEventId: answer.lastEventId, control, messageId: answer.sent.assistant_message.id }
  : null);

export async function chooseModel(slug) {
  if (!chat.peek().id) { setChat({ draftModel: slug }); return; }
  const mine = opening;
  try {
    const updated = await api(`/api/v1/conversations/${chat.peek().id}`, { method: "PATCH", body: { model: slug } });
    if (mine !== opening) return; // another chat is open now
    setChat({ conversation: updated });
    announce(t("chat.model_announce", { name: modelName(slug) }));
  } catch (error) { say(error.message); }
}

// A chat's settings saved from its dialog (chat/settings.jsx). A new chat has no conversation yet:
// they stay in the client (draft*) and go with its first message (send), so choosing them makes no
// empty "New chat" row. `tools` undefined: the chat's tools stay as they are.
export async function saveChatSettings({ systemPrompt, itemIds, tools }) {
  const current = chat.peek();
  if (!current.id) {
    setChat({ draftSystemPrompt: systemPrompt, draftItemIds: itemIds, ...(tools ? { draftTools: tools } : {}) });
    return;
  }
  const mine = opening;
  const id = current.id;
  const same = (a, b) => a.length === b.length && a.every((x) => b.includes(x));
  const changes = {};
  if ((current.conversation?.system_prompt ?? "") !== systemPrompt) changes.system_prompt = systemPrompt;
  if (tools && !same(tools, current.conversation?.tools ?? [])) changes.tools = tools;
  if (Object.keys(changes).length) {
    const updated = await api(`/api/v1/conversations/${id}`, { method: "PATCH", body: changes });
    if (mine === opening) setChat({ conversation: updated });
  }
  if (!same(itemIds, current.itemIds)) {
    const saved = await api(`/api/v1/conversations/${id}/context-items`, { method: "PUT", body: { item_ids: itemIds } });
    if (mine === opening) setChat({ itemIds: saved.item_ids });
  }
  broadcast({ type: "changed", id });
}

// --- sending, regenerating, editing -------------------------------------------------------------

function started(sent, { reload = false, reply = null } = {}) {
  broadcast({ type: "sent", id: chat.peek().id });
  loadConversations();
  if (reload) { settling.value = true; return loadMessages(opening, reply).finally(() => { settling.value = false; }); }
  messages.value = [...messages.value, entry(sent.user_message), entry(sent.assistant_message)];
  scrollToEnd.value += 1;
  follow(chat.peek().id, sent.assistant_message.id, reply);
  return undefined;
}

// The chosen model's catalog row (its capabilities say whether it reads images).
export const currentModel = () => {
  const slug = chat.peek().conversation?.model ?? chat.peek().draftModel;
  return models.peek().find((m) => m.slug === slug) ?? null;
};

export async function send() {
  const content = draft.value;
  const files = attachments.peek();
  if ((!content.trim() && !files.length) || streaming.value || sending.value) return;
  // Said before anything is sent (the server refuses the same, a model that cannot read images
  // with a 400 whose words are shown below).
  const blocker = sendBlocker(files, currentModel());
  if (blocker) { say(blocker); return; }
  const ids = attachmentIds(files);
  const withFiles = ids.length ? { attachments: ids } : {};
  sending.value = true;
  say("");
  const mine = opening;
  // One request per reply: the send is answered with its reply's stream (aborted with this).
  const control = new AbortController();
  let reply = null;
  try {
    let sent;
    const current = chat.peek();
    if (!current.id) {
      // The new chat's settings come with its first message: one request creates it with them.
      const body = { message: content, model: current.draftModel, ...withFiles };
      if (current.draftSystemPrompt) body.system_prompt = current.draftSystemPrompt;
      if (current.draftItemIds.length) body.item_ids = current.draftItemIds;
      if (current.draftTools.length) body.tools = current.draftTools;
      const answer = await sendForStream("/api/v1/conversations", body, { signal: control.signal });
      reply = streamOf(answer, control);
      // The stream's first event has the new chat as `conversation`; the JSON answer is the chat itself.
      sent = reply ? { ...answer.sent.conversation, ...answer.sent } : answer.sent;
      if (mine !== opening) { sentElsewhere(content, files); return; }
      setChat({ id: sent.id, conversation: sent, itemIds: current.draftItemIds });
      setAddress(sent.id);
    } else {
      // Under the reply shown last: the model answers the path the user reads, even if another
      // device switched versions meanwhile (the server refuses a send whose path moved under it).
      const last = messages.peek().at(-1)?.peek();
      const under = last?.role === "assistant" ? { parent_id: last.id } : {};
      const answer = await sendForStream(`/api/v1/conversations/${current.id}/messages`,
        { content, ...withFiles, ...under }, { signal: control.signal });
      reply = streamOf(answer, control);
      sent = answer.sent;
      if (mine !== opening) { sentElsewhere(content, files); return; }
    }
    // Only now are the draft and its files cleared: a refusal (a plan limit, a reply in progress,
    // a model that cannot read images) keeps them.
    draft.value = "";
    if (attachments.peek() === files) clearAttachments();
    started(sent, { reply });
    reply = null; // followed now
  } catch (error) {
    if (!(error instanceof SignedOut)) say(error.message);
  } finally {
    reply?.control.abort(); // not followed here (another chat opened meanwhile): the reply goes on
    sending.value = false;
  }
}

// The user opened another chat while their message was on its way: it was sent all the same (the
// sidebar shows where), but this chat's view and address are left alone.
function sentElsewhere(content, files) {
  if (draft.value === content) draft.value = "";
  if (attachments.peek() === files) clearAttachments();
  loadConversations();
}

// `path(id)` answers the action's address (written out whole, so tests can check it exists).
async function resend(path, body) {
  if (streaming.value || resending) return;
  resending = true;
  const mine = opening;
  const control = new AbortController();
  try {
    const answer = await sendForStream(path(chat.peek().id), body, { signal: control.signal });
    const reply = streamOf(answer, control);
    if (mine === opening) await started(answer.sent, { reload: true, reply });
    else { control.abort(); loadConversations(); }
  } catch (error) { control.abort(); say(error.message); }
  finally { resending = false; }
}

// Any reply, regenerated: a new version beside it (its siblings), which becomes the one shown.
export const regenerate = (message) => resend((id) => `/api/v1/conversations/${id}/messages/${message.id}/regenerate`, {});
// Any question, edited: a new version beside it (under the same parent, with the same files), and
// its reply; the old one stays, one arrow away.
export function edit(message, content) {
  const files = (message.attachments ?? []).map((file) => file.id);
  if (!content.trim() && !files.length) return undefined;
  return resend((id) => `/api/v1/conversations/${id}/messages`, { content, parent_id: message.parent_id ?? null, attachments: files });
}

// ‹ n/m ›: the version `messageId` of a message shown instead (the server continues the path down
// its newest replies); other tabs showing this chat follow.
export async function showVersion(messageId, { n, m }) {
  if (resending || settling.peek()) return;
  const id = chat.peek().id;
  const mine = opening;
  settling.value = true;
  try {
    const conversation = await api(`/api/v1/conversations/${id}`, { method: "PATCH", body: { current_message_id: messageId } });
    if (mine !== opening) return;
    setChat({ conversation });
    broadcast({ type: "switched", id });
    await loadMessages(mine);
    announce(t("chat.version_shown", { n, m }));
  } catch (error) { if (!(error instanceof SignedOut)) say(error.message); }
  finally { settling.value = false; }
}

// "Branch in new chat": a new chat holding a copy of the path down to this message, opened.
export async function branch(message) {
  try {
    const created = await api(`/api/v1/conversations/${chat.peek().id}/messages/${message.id}/branch`, { method: "POST" });
    broadcast({ type: "created", id: created.id });
    await loadConversations();
    go(created.id);
    announce(t("chat.branch_opened"));
  } catch (error) { if (!(error instanceof SignedOut)) say(error.message); }
}

// A reply cut at the length limit goes on in a new reply after it, followed like any other.
export async function continueReply(message) {
  if (streaming.value || resending) return;
  resending = true;
  const mine = opening;
  try {
    const id = chat.peek().id;
    const sent = await api(`/api/v1/conversations/${id}/messages/${message.peek().id}/continue`, { method: "POST" });
    if (mine !== opening) { loadConversations(); return; }
    broadcast({ type: "sent", id });
    loadConversations();
    messages.value = [...messages.value, entry(sent.assistant_message)];
    scrollToEnd.value += 1;
    announce(t("continue.started"));
    follow(id, sent.assistant_message.id);
  } catch (error) { if (!(error instanceof SignedOut)) say(error.message); }
  finally { resending = false; }
}

export async function stop() {
  if (!chat.peek().id) return;
  try {
    // The reply followed (replies on other branches may be generating too).
    const body = follower?.messageId ? { message_id: follower.messageId } : {};
    const r = await request(`/api/v1/conversations/${chat.peek().id}/stop`, { method: "POST", body });
    // 409: it had just finished. Either way the stream reports the final state.
    if (!r.ok && r.status !== 409) say((await problem(r)).message);
  } catch (error) { if (!(error instanceof SignedOut)) say(error.message); }
}

// --- feedback -----------------------------------------------------------------------------------

// Answers true once the rating is saved.
export async function rate(message, rating) {
  try {
    await api(`/api/v1/conversations/${chat.peek().id}/feedback`, { method: "POST", body: { message_id: message.peek().id, rating } });
    patch(message, { my_rating: rating });
    announce(t("chat.feedback_thanks"));
    return true;
  } catch (error) { say(error.message); return false; }
}

export async function comment(message, rating, text) {
  try {
    await api(`/api/v1/conversations/${chat.peek().id}/feedback`, { method: "POST",
      body: { message_id: message.peek().id, rating, comment: text } });
    announce(t("chat.feedback_sent"));
    return true;
  } catch (error) { say(error.message); return false; }
}

// --- following a reply --------------------------------------------------------------------------

function stopFollowing() {
  follower?.control.abort();
  follower = null;
}

// Deltas arrive tens of milliseconds apart: the message is repainted at most every 40 ms.
const PAINT_EVERY_MS = 40;
// How the end of a reply is announced, by its final status.
const REPLY_ENDS = { complete: "chat.reply_finished", stopped: "chat.reply_stopped", interrupted: "chat.reply_interrupted" };

// `reply`: the stream of the reply just asked for (see `streamOf`), read before any GET /stream.
async function follow(id, messageId = null, reply = null) {
  stopFollowing();
  const control = reply?.control ?? new AbortController();
  const me = { control, messageId };
  follower = me;
  streaming.value = true;
  const texts = new Map(); // message id -> the text so far, ahead of what is painted
  let timer = null;
  const paint = () => {
    timer = null;
    for (const [messageId, text] of texts) {
      const message = find(messageId);
      if (message && message.peek().content !== text) patch(message, { content: text });
    }
  };
  let finished = false;
  let titled = true; // false: a first reply finished on a chat with no title yet
  try {
    const resume = reply ? { opened: reply.opened, lastEventId: reply.lastEventId } : {};
    for await (const item of followReply(id, { messageId, signal: control.signal, ...resume })) {
      if (item.type === "open") say("");
      else if (item.type === "lost") say(t("chat.reconnecting"));
      else if (item.type === "drift") {
        // Our event ids mean nothing for another reply: start over from what the server has
        // saved, which also settles the reply we were following.
        control.abort();
        loadMessages().catch((error) => say(error.message));
        return;
      } else {
        const data = item.data;
        me.messageId ??= data.message_id;
        let message = find(data.message_id);
        if (!message) { // a reply this page did not know of
          message = entry({ id: data.message_id, role: "assistant", content: "", status: "streaming", model: data.model });
          messages.value = [...messages.value, message];
        }
        const text = texts.get(data.message_id) ?? message.peek().content ?? "";
        const fields = replyFields(item.name, data, message.peek()); // status, error, sources, tool calls, notices
        switch (item.name) {
          case "snapshot": texts.set(data.message_id, data.text); break; // the text so far
          case "delta": texts.set(data.message_id, text + data.text); break; // only the new text
          // The text written before the call is painted with it, so the call shows after that text.
          case "tool.call": clearTimeout(timer); paint(); break;
          case "message.done":
            clearTimeout(timer);
            batch(() => { // one render: the last text and the final state together
              paint();
              patch(message, fields);
            });
            announce(t(REPLY_ENDS[data.status] ?? "chat.reply_failed"));
            finished = true;
            titled = data.status !== "complete" || Boolean(chat.peek().conversation?.title);
            break;
          default: break;
        }
        if (item.name !== "message.done" && Object.keys(fields).length) patch(message, fields);
        if (item.name === "snapshot" || item.name === "delta") {
          if (message.peek().status !== "streaming") patch(message, { status: "streaming" });
          timer ??= setTimeout(paint, PAINT_EVERY_MS);
        }
      }
    }
  } catch (error) {
    if (!control.signal.aborted && !(error instanceof SignedOut)) say(error.message);
  } finally {
    clearTimeout(timer);
    if (!control.signal.aborted) paint();
    if (follower === me) { follower = null; streaming.value = false; }
    if (finished) loadConversations();
    if (!titled) awaitTitle(id);
  }
}

// The server titles a chat from its first question just after the first reply ends: ask for the
// title a few times, so the header shows it (rather than "New chat" until a reload).
async function awaitTitle(id) {
  for (const ms of [300, 1000, 3000]) {
    await new Promise((resolve) => { setTimeout(resolve, ms); });
    if (chat.peek().id !== id || chat.peek().conversation?.title) return;
    try {
      const conversation = await api(`/api/v1/conversations/${id}`);
      if (chat.peek().id !== id) return;
      if (conversation.title) { setChat({ conversation }); loadConversations(); return; }
    } catch { return; } // signed out, or the chat is gone: nothing to show
  }
}

// --- other tabs -------------------------------------------------------------------------------

export function watchOtherTabs() {
  onBroadcast(async (message) => {
    if (!user.peek()) return;
    loadConversations();
    if (message.id !== chat.peek().id) return;
    if (message.type === "deleted") { say(t("chat.deleted_elsewhere")); go(null, { replace: true }); return; }
    if (message.type === "sent" && !follower) await loadMessages();
    // Another version chosen there: this tab shows the same path (and follows its reply, if live).
    if (message.type === "switched") await loadMessages();
    if (message.type === "changed") {
      try { setChat({ conversation: await api(`/api/v1/conversations/${message.id}`) }); } catch { /* gone */ }
    }
  });
}

// The prompt library and the samples, shown on an empty chat.
export async function loadStarters() {
  if (starters.peek()) return;
  const [prompts, samples] = await Promise.all([
    api("/api/v1/prompts").then((b) => b.results ?? b).catch(() => []),
    api("/api/v1/samples").then((b) => b.results ?? b).catch(() => []),
  ]);
  starters.value = { prompts, samples };
}

export async function cloneSample(sample) {
  try {
    const conversation = await api(`/api/v1/samples/${sample.id}/clone`, { method: "POST" });
    await loadConversations();
    go(conversation.id);
  } catch (error) { say(error.message); }
}

export function pickStarter(prompt) {
  draft.value = prompt.text;
  composerFocus.value += 1;
}

export function resetChat() {
  ++opening;
  stopFollowing();
  show([]);
  draft.value = "";
  clearAttachments();
  starters.value = null;
  chat.value = emptyChat();
  toolSets.value = null; // another user may be offered others
  streaming.value = false;
}
