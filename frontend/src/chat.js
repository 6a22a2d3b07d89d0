// The open chat: its messages (Markdown, rendered as they stream), the composer, stop,
// regenerate, edit and resend, feedback, the model picker and the chat's own settings.
import { SignedOut, api, problem, request } from "./api.js";
import { $, announce, copyText, h, icon, menuButton, say } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { go, setAddress } from "./router.js";
import { conversationTitle, loadConversations } from "./sidebar.js";
import { openChatSettings } from "./chat_settings.js";
import { broadcast, defaultModel, modelName, onBroadcast, state } from "./state.js";
import { followReply } from "./stream.js";

const views = new Map(); // message id -> {message, text, el, body, note, actions}
let follower = null; // the reply being followed: {control, id}
let opening = 0; // a newer openChat makes the answers of older ones irrelevant
let sending = false;
let starters = null; // prompts and samples, loaded once

// Enter sends (Shift+Enter: a new line), except on touch keyboards, whose Enter is the only way to
// a new line; there the send button sends.
const touch = window.matchMedia("(pointer: coarse)");
const enterSends = (event) => event.key === "Enter" && !event.shiftKey && !event.isComposing && !touch.matches;

const rel = (url) => ((u) => u.pathname + u.search)(new URL(url, location.origin));
const LIVE = ["pending", "streaming"];

// --- opening a chat --------------------------------------------------------------------------

export async function openChat(id) {
  const mine = ++opening;
  stopFollowing();
  views.clear();
  $("#messages").replaceChildren();
  const draftModel = state.chat.id === null && !id ? state.chat.draftModel : null;
  state.chat = { id, conversation: null, messages: [], draftModel: draftModel ?? defaultModel(), draftSystemPrompt: "" };
  markCurrent();
  renderHeader();
  setStreaming(false);
  if (!id) {
    await showStarters();
    $("#composer-input").focus();
    return;
  }
  try {
    const conversation = await api(`/api/v1/conversations/${id}`);
    if (mine !== opening) return;
    state.chat.conversation = conversation;
    renderHeader();
    await loadMessages(mine);
  } catch (error) {
    if (mine !== opening || error instanceof SignedOut) return;
    if (error.status === 404) {
      say("That conversation does not exist, or it was deleted.");
      go(null, { replace: true });
    } else say(error.message);
  }
}

async function loadMessages(mine = opening) {
  const id = state.chat.id;
  const messages = [];
  let path = `/api/v1/conversations/${id}/messages`;
  while (path) { // cursor pages, oldest first
    const page = await api(path);
    if (mine !== opening) return;
    messages.push(...page.results);
    path = page.next ? rel(page.next) : null;
  }
  stopFollowing();
  views.clear();
  $("#messages").replaceChildren();
  state.chat.messages = messages;
  messages.forEach(addMessage);
  await showStarters();
  updateActions();
  scrollDown(true);
  const last = messages.at(-1);
  // A reply still being generated (started in another tab, or before a reload): attach to it.
  if (last?.role === "assistant" && LIVE.includes(last.status)) follow(id, last.id);
}

function markCurrent() {
  for (const link of document.querySelectorAll("#conversation-list .conv-link")) {
    const current = link.closest("li").dataset.id === state.chat.id;
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  document.title = state.chat.conversation ? `${conversationTitle(state.chat.conversation)} · Chat` : "Chat";
}

// --- header: title, model, chat settings ------------------------------------------------------

export function renderHeader() {
  const conversation = state.chat.conversation;
  $("#chat-title").textContent = conversation ? conversationTitle(conversation) : "New chat";
  const current = conversation?.model ?? state.chat.draftModel;
  const picker = menuButton({
    label: `Model: ${modelName(current) || "none"}. Choose model`,
    className: "model-button",
    content: [h("span", {}, modelName(current) || "Choose a model"), h("span", { "aria-hidden": "true" }, " ▾")],
    items: () => state.models.map((model) => ({
      label: model.display_name || model.slug,
      description: model.description,
      checked: model.slug === current,
      onSelect: () => chooseModel(model.slug),
    })),
  });
  $("#model-slot").replaceChildren(picker);
  markCurrent();
}

async function chooseModel(slug) {
  if (!state.chat.id) {
    state.chat.draftModel = slug;
    renderHeader();
    return;
  }
  const mine = opening;
  try {
    const updated = await api(`/api/v1/conversations/${state.chat.id}`, { method: "PATCH", body: { model: slug } });
    if (mine !== opening) return; // another chat is open now
    state.chat.conversation = updated;
    renderHeader();
    announce(`Model: ${modelName(slug)}`);
  } catch (error) { say(error.message); }
}

// Creates the conversation of a new chat when something needs its id (chat settings).
export async function ensureConversation() {
  if (state.chat.id) return state.chat.conversation;
  const body = { model: state.chat.draftModel };
  if (state.chat.draftSystemPrompt) body.system_prompt = state.chat.draftSystemPrompt;
  const conversation = await api("/api/v1/conversations", { method: "POST", body });
  state.chat.id = conversation.id;
  state.chat.conversation = conversation;
  setAddress(conversation.id);
  renderHeader();
  loadConversations();
  return conversation;
}

document.addEventListener("conversation-changed", renderHeader);

// --- messages ---------------------------------------------------------------------------------

function addMessage(message) {
  const who = message.role === "user" ? "You" : modelName(message.model) || "Assistant";
  const view = { message, text: message.content ?? "" };
  view.body = h("div", { class: message.role === "user" ? "body plain" : "body markdown" });
  view.note = h("p", { class: "note", hidden: true });
  view.actions = h("div", { class: "actions" });
  view.el = h("article", { class: `msg ${message.role}`, dataset: { id: message.id },
    "aria-label": message.role === "user" ? "You said" : `${who} said` },
  h("div", { class: "who" }, who), view.body, view.note, view.actions);
  views.set(message.id, view);
  $("#messages").append(view.el);
  paint(view);
  describe(view);
  return view;
}

function paint(view) {
  view.timer = null;
  if (view.message.role !== "assistant") view.body.textContent = view.text;
  else if (view.text) renderMarkdown(view.body, view.text);
  else view.body.replaceChildren(LIVE.includes(view.message.status)
    ? h("span", { class: "typing", "aria-label": "Writing" }, h("span"), h("span"), h("span")) : "");
}

// Deltas arrive tens of milliseconds apart: repaint at most every 40 ms.
function schedulePaint(view) {
  view.timer ??= setTimeout(() => { paint(view); scrollDown(); }, 40);
}

const NOTES = {
  stopped: () => "Stopped.",
  interrupted: () => "Interrupted: the server stopped before this reply was finished.",
  error: (m) => `This reply failed${m.error ? `: ${m.error}` : "."}`,
};

function describe(view) {
  const m = view.message;
  view.el.dataset.status = m.status;
  if (LIVE.includes(m.status)) view.el.setAttribute("aria-busy", "true"); else view.el.removeAttribute("aria-busy");
  const note = NOTES[m.status]?.(m) ?? (m.status === "complete" && m.finish_reason === "length"
    ? "Cut off: the reply reached its length limit." : "");
  view.note.textContent = note;
  view.note.hidden = !note;
  view.note.className = `note ${m.status === "error" ? "bad" : ""}`;
}

function updateActions() {
  const all = [...views.values()];
  const lastUser = all.findLast((v) => v.message.role === "user");
  const lastReply = all.findLast((v) => v.message.role === "assistant");
  for (const view of all) {
    const m = view.message;
    const live = LIVE.includes(m.status);
    const buttons = [];
    if (view.text && !live) buttons.push(h("button", { type: "button", class: "icon", "aria-label": "Copy message", title: "Copy",
      onclick: () => copyText(view.text) }, icon("copy")));
    if (m.role === "assistant" && !live && m.id === lastReply?.message.id && !state.streaming) {
      buttons.push(h("button", { type: "button", class: "icon", "aria-label": "Regenerate", title: "Regenerate",
        onclick: regenerate }, icon("regenerate")));
    }
    if (m.role === "assistant" && !live && view.text) {
      for (const [rating, label] of [["up", "Good reply"], ["down", "Bad reply"]]) {
        buttons.push(h("button", { type: "button", class: "icon", "aria-label": label, title: label,
          "aria-pressed": String(m.my_rating === rating), onclick: () => rate(view, rating) }, icon(rating)));
      }
    }
    if (m.role === "user" && view === lastUser && !state.streaming) {
      buttons.push(h("button", { type: "button", class: "icon", "aria-label": "Edit message", title: "Edit",
        onclick: () => startEdit(view) }, icon("edit")));
    }
    view.actions.replaceChildren(...buttons);
  }
}

const nearBottom = (box) => box.scrollHeight - box.scrollTop - box.clientHeight < 120;
function scrollDown(force = false) {
  const box = $("#messages");
  if (force || nearBottom(box)) box.scrollTop = box.scrollHeight;
}

// --- starters on an empty chat ------------------------------------------------------------------

async function showStarters() {
  const box = $("#starters");
  if (state.chat.messages.length || views.size) { box.hidden = true; return; }
  box.hidden = false;
  if (!starters) {
    const [prompts, samples] = await Promise.all([
      api("/api/v1/prompts").then((b) => b.results ?? b).catch(() => []),
      api("/api/v1/samples").then((b) => b.results ?? b).catch(() => []),
    ]);
    starters = { prompts, samples };
  }
  if (views.size) { box.hidden = true; return; }
  box.replaceChildren(
    h("h2", {}, "How can I help?"),
    starters.prompts.length ? h("ul", { class: "starter-list", "aria-label": "Prompt ideas" },
      starters.prompts.slice(0, 6).map((prompt) => h("li", {}, h("button", { type: "button", class: "starter",
        onclick: () => { const input = $("#composer-input"); input.value = prompt.text; input.dispatchEvent(new Event("input")); input.focus(); } },
      h("strong", {}, prompt.title), h("span", {}, prompt.text.slice(0, 90)))))) : "",
    starters.samples.length ? h("h3", {}, "Sample conversations") : "",
    starters.samples.length ? h("ul", { class: "starter-list", "aria-label": "Sample conversations" },
      starters.samples.slice(0, 4).map((sample) => h("li", {}, h("button", { type: "button", class: "starter",
        onclick: () => cloneSample(sample) }, h("strong", {}, sample.title), h("span", {}, sample.description || ""))))) : "",
  );
}

async function cloneSample(sample) {
  try {
    const conversation = await api(`/api/v1/samples/${sample.id}/clone`, { method: "POST" });
    await loadConversations();
    go(conversation.id);
  } catch (error) { say(error.message); }
}

// --- sending, regenerating, editing -------------------------------------------------------------

export function setStreaming(on) {
  state.streaming = on;
  $("#send").hidden = on;
  $("#stop").hidden = !on;
  // While a reply streams, screen readers wait for it instead of reading every token; the end is
  // announced ("Reply finished").
  $("#messages").setAttribute("aria-busy", String(on));
  updateActions();
}

function started(sent, { reload = false } = {}) {
  broadcast({ type: "sent", id: state.chat.id });
  loadConversations();
  if (reload) {
    // The replaced messages must not be acted on while the new list loads.
    for (const view of views.values()) view.actions.replaceChildren();
    return loadMessages();
  }
  $("#starters").hidden = true;
  addMessage(sent.user_message);
  addMessage(sent.assistant_message);
  scrollDown(true);
  follow(state.chat.id, sent.assistant_message.id);
}

export async function send() {
  const input = $("#composer-input");
  const content = input.value;
  if (!content.trim() || state.streaming || sending) return;
  sending = true;
  $("#send").disabled = true;
  say("");
  const mine = opening;
  try {
    let sent;
    if (!state.chat.id) {
      const body = { message: content, model: state.chat.draftModel };
      if (state.chat.draftSystemPrompt) body.system_prompt = state.chat.draftSystemPrompt;
      sent = await api("/api/v1/conversations", { method: "POST", body });
      if (mine !== opening) return sentElsewhere(input, content);
      state.chat.id = sent.id;
      state.chat.conversation = sent;
      setAddress(sent.id);
      renderHeader();
    } else {
      sent = await api(`/api/v1/conversations/${state.chat.id}/messages`, { method: "POST", body: { content } });
      if (mine !== opening) return sentElsewhere(input, content);
    }
    // Only now is the draft cleared: a refusal (a plan limit, a reply in progress) keeps it.
    input.value = "";
    input.dispatchEvent(new Event("input"));
    started(sent);
  } catch (error) {
    if (!(error instanceof SignedOut)) say(error.message);
  } finally {
    sending = false;
    $("#send").disabled = false;
  }
}

// The user opened another chat while their message was on its way: it was sent all the same (the
// sidebar shows where), but this chat's view and address are left alone.
function sentElsewhere(input, content) {
  if (input.value === content) { input.value = ""; input.dispatchEvent(new Event("input")); }
  loadConversations();
}

let resending = false; // a regenerate or an edit on its way: a second click would only get a 409

async function regenerate() {
  if (state.streaming || resending) return;
  resending = true;
  const mine = opening;
  try {
    const sent = await api(`/api/v1/conversations/${state.chat.id}/regenerate`, { method: "POST", body: {} });
    if (mine === opening) await started(sent, { reload: true }); else loadConversations();
  } catch (error) { say(error.message); }
  finally { resending = false; }
}

function startEdit(view) {
  const field = h("textarea", { class: "edit-box", "aria-label": "Edited message", rows: "3" });
  field.value = view.text;
  const cancel = () => { paint(view); updateActions(); };
  const submit = async () => {
    const content = field.value;
    if (!content.trim() || resending) return;
    resending = true;
    const mine = opening;
    try {
      const sent = await api(`/api/v1/conversations/${state.chat.id}/edit`, {
        method: "POST", body: { message_id: view.message.id, content } });
      if (mine === opening) await started(sent, { reload: true }); else loadConversations();
    } catch (error) { say(error.message); }
    finally { resending = false; }
  };
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); cancel(); }
    if (enterSends(event)) { event.preventDefault(); submit(); }
  });
  view.body.replaceChildren(field, h("div", { class: "edit-actions" },
    h("button", { type: "button", onclick: cancel }, "Cancel"),
    h("button", { type: "button", class: "primary", onclick: submit }, "Send edited message")));
  view.actions.replaceChildren();
  field.focus();
}

async function stop() {
  if (!state.chat.id) return;
  try {
    const r = await request(`/api/v1/conversations/${state.chat.id}/stop`, { method: "POST" });
    // 409: it had just finished. Either way the stream reports the final state.
    if (!r.ok && r.status !== 409) say((await problem(r)).message);
  } catch (error) { if (!(error instanceof SignedOut)) say(error.message); }
}

// --- feedback -----------------------------------------------------------------------------------

async function rate(view, rating) {
  try {
    await api(`/api/v1/conversations/${state.chat.id}/feedback`, { method: "POST", body: { message_id: view.message.id, rating } });
    view.message.my_rating = rating;
    updateActions();
    announce("Thanks for your feedback");
    const field = h("textarea", { rows: "2", maxlength: "2000", "aria-label": "Feedback comment",
      placeholder: rating === "up" ? "What was good? (optional)" : "What went wrong? (optional)" });
    const form = h("form", { class: "feedback-form" }, field,
      h("div", {}, h("button", { type: "button", onclick: () => form.remove() }, "Close"),
        h("button", { type: "submit", class: "primary" }, "Send feedback")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(`/api/v1/conversations/${state.chat.id}/feedback`, { method: "POST",
          body: { message_id: view.message.id, rating, comment: field.value } });
        form.remove();
        announce("Feedback sent");
      } catch (error) { say(error.message); }
    });
    view.el.querySelector(".feedback-form")?.remove();
    view.el.append(form);
    field.focus();
  } catch (error) { say(error.message); }
}

// --- following a reply --------------------------------------------------------------------------

function stopFollowing() {
  follower?.control.abort();
  follower = null;
}

// Applies one event of the reply; true when the reply is finished.
function handle(event) {
  const data = event.data;
  let view = views.get(data.message_id);
  if (!view) {
    $("#starters").hidden = true;
    view = addMessage({ id: data.message_id, role: "assistant", content: "", status: "streaming", model: data.model });
  }
  const m = view.message;
  switch (event.name) {
    case "message.start": m.status = "streaming"; break;
    case "snapshot": view.text = data.text; m.status = "streaming"; schedulePaint(view); break; // the text so far
    case "delta": view.text += data.text; m.status = "streaming"; schedulePaint(view); break; // only the new text
    case "error": m.error = data.message; m.error_code = data.code; break;
    case "message.done":
      m.status = data.status;
      m.finish_reason = data.finish_reason;
      m.content = view.text;
      clearTimeout(view.timer);
      paint(view);
      describe(view);
      announce(data.status === "complete" ? "Reply finished" : `Reply ${data.status}`);
      scrollDown();
      return true;
    default: return false;
  }
  describe(view);
  return false;
}

// Follows the conversation's reply (stream.js does the resuming) and paints what it says.
async function follow(id, messageId = null) {
  stopFollowing();
  const control = new AbortController();
  const me = { control, id };
  follower = me;
  setStreaming(true);
  let finished = false;
  try {
    for await (const item of followReply(id, { messageId, signal: control.signal })) {
      if (item.type === "open") say("");
      else if (item.type === "lost") say("Connection lost; reconnecting…");
      else if (item.type === "drift") { reloadAfterDrift(control); return; }
      else if (handle(item)) finished = true;
    }
  } catch (error) {
    if (!control.signal.aborted && !(error instanceof SignedOut)) say(error.message);
  } finally {
    if (follower === me) { follower = null; setStreaming(false); }
    if (finished) loadConversations();
  }
}

// Our event ids mean nothing for another reply: start over from what the server has saved, which
// also settles the reply we were following.
function reloadAfterDrift(control) {
  control.abort();
  loadMessages().catch((error) => say(error.message));
}

// --- other tabs -------------------------------------------------------------------------------

onBroadcast(async (message) => {
  if (!state.user) return;
  loadConversations();
  if (message.id !== state.chat.id) return;
  if (message.type === "deleted") { say("This chat was deleted in another tab."); go(null, { replace: true }); return; }
  if (message.type === "sent" && !follower) await loadMessages();
  if (message.type === "changed") {
    try { state.chat.conversation = await api(`/api/v1/conversations/${message.id}`); renderHeader(); } catch { /* gone */ }
  }
});

// --- composer ---------------------------------------------------------------------------------

export function setupComposer() {
  const input = $("#composer-input");
  const grow = () => { input.style.height = "auto"; input.style.height = `${Math.min(input.scrollHeight, 240)}px`; };
  input.addEventListener("input", grow);
  input.addEventListener("keydown", (event) => {
    if (enterSends(event)) { event.preventDefault(); send(); }
  });
  $("#composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
  $("#stop").addEventListener("click", stop);
  $("#chat-options").addEventListener("click", () => openChatSettings());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.streaming && document.activeElement === input) stop();
  });
}

export function resetChat() {
  stopFollowing();
  views.clear();
  starters = null;
  $("#messages").replaceChildren();
  state.chat = { id: null, conversation: null, messages: [], draftModel: null, draftSystemPrompt: "" };
}
