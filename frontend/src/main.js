// The web client at / and /c/<id>: an SPA over the public REST API.
import { resetKey } from "./reset_key.js"; // first: it takes a reset key out of the address
import { SignedOut, api, forget, hasSession, problem, refreshTokens, register, signIn, signOut, whenSignedOut } from "./api.js";
import { openChat, resetChat, setupComposer } from "./chat.js";
import { openCollector } from "./collector.js";
import { $, $$, confirmDialog, h, icon, say } from "./dom.js";
import { currentRoute, go, whenRouted } from "./router.js";
import { applyTheme, openSettings } from "./settings.js";
import { loadConversations, setupSidebar } from "./sidebar.js";
import { state } from "./state.js";

// --- signing in -------------------------------------------------------------------------------

function showAuth(message) {
  state.user = null;
  resetChat();
  $("#shell").hidden = true;
  $("#auth").hidden = false;
  $("#auth-card")?.remove();
  $("#auth-form").hidden = false;
  say(message);
  $("#email").focus();
}

// Forgotten password: allauth's headless reset mails a link to /reset-password#key=<key> (this
// page; reset_key.js has already taken the key out of the address).

async function allauthPost(path, body) {
  const r = await fetch(`/_allauth/app/v1/auth/password/${path}`, { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  // 401 after a reset means "done, now sign in" (no session is opened by a reset).
  if (r.ok || (path === "reset" && r.status === 401)) return;
  let text = `The server answered ${r.status}.`;
  try { text = (await r.json()).errors.map((e) => e.message).join(" ") || text; } catch { /* not JSON */ }
  throw new Error(text);
}

// The forgot and reset cards are built only when shown, so the sign-in form's "Email" and
// "Password" stay the only fields of those names on the page.
function showCard(title, fields, submitLabel, onSubmit, extra = []) {
  $("#auth-card")?.remove();
  const submit = h("button", { type: "submit", class: "primary" }, submitLabel);
  const card = h("form", { id: "auth-card", class: "auth-card" }, h("h1", {}, title), fields, submit, extra);
  card.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say("");
    try { await onSubmit(); } catch (error) { say(error.message); } finally { submit.disabled = false; }
  });
  $("#auth-form").hidden = true;
  $("#auth").append(card);
  card.querySelector("input").focus();
}

function showForgot() {
  const email = h("input", { type: "email", autocomplete: "username", maxlength: "254", required: true, value: $("#email").value });
  const sent = h("p", { role: "status" });
  showCard("Reset your password", [
    h("p", { class: "muted" }, "Enter your account's email: we send it a link to choose a new password."),
    h("label", { class: "field" }, h("span", {}, "Email"), email),
  ], "Send reset link", async () => {
    await allauthPost("request", { email: email.value.trim() });
    sent.textContent = "If an account uses that email, a link to reset its password is on its way.";
  }, [sent, h("button", { type: "button", class: "link", onclick: () => showAuth("") }, "Back to sign in")]);
}

function showReset(key) {
  const password = h("input", { type: "password", autocomplete: "new-password", maxlength: "128", required: true });
  showCard("Choose a new password", [
    h("label", { class: "field" }, h("span", {}, "New password"), password),
    h("p", { class: "muted" }, "At least 8 characters, not only digits, not a common password. Every device signed in with the old password is signed out."),
  ], "Set new password", async () => {
    await allauthPost("reset", { key, password: password.value });
    history.replaceState(null, "", "/");
    forget();
    showAuth("");
    $("#auth-title").textContent = "Password changed: sign in with the new one";
  });
}

async function showApp() {
  const [user, settings] = await Promise.all([api("/api/v1/user"), api("/api/v1/user/settings")]);
  state.user = user;
  applyTheme(settings.theme);
  $("#who").textContent = user.display_name || user.email;
  $("#auth").hidden = true;
  $("#shell").hidden = false;
  say("");
  loadConversations();
  if (await continueSharedConversation()) return;
  await openChat(currentRoute());
}

// A share page's "Continue this conversation" lands here as /?continue_share=<id>: after the
// user says yes (a link from anywhere must not write into an account unasked), clone the
// snapshot into this user's conversations and open the copy, once.
async function continueSharedConversation() {
  const params = new URLSearchParams(location.search);
  const shareId = params.get("continue_share");
  if (!shareId) return false;
  history.replaceState(null, "", location.pathname);
  const path = `/api/v1/shares/${encodeURIComponent(shareId)}`;
  try {
    const share = await api(path);
    const yes = await confirmDialog({
      title: "Continue this shared conversation?",
      text: `A copy of “${share.title || "Untitled"}” (${share.messages?.length ?? 0} messages) is added to your conversations, where you can go on with it.`,
      confirm: "Add a copy",
      danger: false,
    });
    if (!yes) return false;
    const conversation = await api(`${path}/clone`, { method: "POST" });
    loadConversations();
    await go(conversation.id, { replace: true });
    return true;
  } catch (error) {
    say(`Could not continue the shared conversation: ${error.message}`);
    return false;
  }
}

// Registering answers alike whether or not the email already has an account (the server never
// says which); signing in next tells the person registering only whether *their* password works.
async function registerAndSignIn(email, password, displayName) {
  await register(email, password, displayName);
  try {
    await signIn(email, password);
  } catch (error) {
    if (error.status !== 401) throw error;
    throw new Error("Could not sign in with this email and password. If the email already has an account, sign in with its password or use “Forgot password?”.");
  }
}

function setupAuth() {
  const form = $("#auth-form");
  const registerMode = () => form.dataset.mode === "register";
  $("#auth-switch").addEventListener("click", () => {
    form.dataset.mode = registerMode() ? "login" : "register";
    const reg = registerMode();
    $("#auth-title").textContent = reg ? "Create your account" : "Welcome back";
    $("#auth-submit").textContent = reg ? "Create account" : "Sign in";
    $("#auth-switch").textContent = reg ? "I already have an account" : "Create an account";
    $("#name-field").hidden = !reg;
    $("#password").autocomplete = reg ? "new-password" : "current-password";
    say("");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = $("#email").value.trim();
    const password = $("#password").value;
    $("#auth-submit").disabled = true;
    say("");
    try {
      if (registerMode()) await registerAndSignIn(email, password, $("#display-name").value.trim());
      else await signIn(email, password);
      $("#password").value = "";
      await showApp();
    } catch (error) {
      say(error.message);
    } finally { $("#auth-submit").disabled = false; }
  });
}

// --- the shell: sidebar drawer, settings, collector, sign out ----------------------------------

function setDrawer(open) {
  document.body.classList.toggle("drawer-open", open);
  $("#open-sidebar").setAttribute("aria-expanded", String(open));
  $("#backdrop").hidden = !open;
  if (open) $("#new-chat").focus();
}

function setupShell() {
  $("#open-sidebar").addEventListener("click", () => setDrawer(!document.body.classList.contains("drawer-open")));
  $("#close-sidebar").addEventListener("click", () => { setDrawer(false); $("#open-sidebar").focus(); });
  $("#backdrop").addEventListener("click", () => setDrawer(false));
  document.addEventListener("keydown", (event) => {
    // An Escape already handled (a menu, a rename) or meant for an open dialog is not for the drawer.
    if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
    if (!document.body.classList.contains("drawer-open")) return;
    setDrawer(false);
    $("#open-sidebar").focus();
  });
  $("#new-chat").addEventListener("click", () => { setDrawer(false); go(null); });
  $("#open-settings").addEventListener("click", () => openSettings());
  $("#open-collector").addEventListener("click", () => openCollector());
  $("#sign-out").addEventListener("click", async () => {
    await signOut();
    history.replaceState(null, "", "/");
    showAuth("Signed out.");
  });
  // On a phone, picking a conversation closes the drawer.
  $("#conversation-list").addEventListener("click", (event) => { if (event.target.closest(".conv-link")) setDrawer(false); });
}

whenRouted((id) => openChat(id));
for (const element of $$("[data-icon]")) element.prepend(icon(element.dataset.icon));
whenSignedOut(() => showAuth("Your session ended; please sign in again."));

setupAuth();
$("#auth-forgot").addEventListener("click", showForgot);
setupShell();
setupSidebar();
setupComposer();

(async () => {
  try {
    // Public: fetched without a token (no refresh needed before the page knows who you are).
    const r = await fetch("/api/v1/models");
    if (!r.ok) throw await problem(r);
    state.models = await r.json().then((body) => body.results ?? body);
  } catch (error) { say(error.message); }
  if (resetKey) { showAuth(""); return showReset(resetKey); }
  if (resetKey === "") {
    history.replaceState(null, "", "/");
    return showAuth("This reset link is incomplete: ask for a new one with “Forgot password?”.");
  }
  if (!hasSession()) return showAuth();
  try {
    await refreshTokens();
    await showApp();
  } catch (error) {
    showAuth(error instanceof SignedOut ? "Please sign in again." : error.message);
  }
})();
