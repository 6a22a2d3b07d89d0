// The web client at / and /c/<id>: an SPA over the public REST API.
import { SignedOut, api, hasSession, refreshTokens, register, signIn, signOut, whenSignedOut } from "./api.js";
import { openChat, resetChat, setupComposer } from "./chat.js";
import { openCollector } from "./collector.js";
import { $, $$, icon, say } from "./dom.js";
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
  say(message);
  $("#email").focus();
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

// A share page's "Continue this conversation" lands here as /?continue_share=<id>: clone the
// snapshot into this user's conversations and open the copy, once.
async function continueSharedConversation() {
  const params = new URLSearchParams(location.search);
  const shareId = params.get("continue_share");
  if (!shareId) return false;
  history.replaceState(null, "", location.pathname);
  try {
    const conversation = await api(`/api/v1/shares/${encodeURIComponent(shareId)}/clone`, { method: "POST" });
    loadConversations();
    await go(conversation.id, { replace: true });
    return true;
  } catch (error) {
    say(`Could not continue the shared conversation: ${error.message}`);
    return false;
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
      if (registerMode()) await register(email, password, $("#display-name").value.trim());
      await signIn(email, password);
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
    if (event.key === "Escape" && document.body.classList.contains("drawer-open")) setDrawer(false);
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
setupShell();
setupSidebar();
setupComposer();

(async () => {
  try {
    state.models = await api("/api/v1/models").then((body) => body.results ?? body);
  } catch (error) { say(error.message); }
  if (!hasSession()) return showAuth();
  try {
    await refreshTokens();
    await showApp();
  } catch (error) {
    showAuth(error instanceof SignedOut ? "Please sign in again." : error.message);
  }
})();
