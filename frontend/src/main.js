// The web client at / and /c/<id>: an SPA over the public REST API. This module composes it: it
// renders the page, wires the router and the sign-out to the screens, and starts the session.
import { resetKey } from "./reset_key.js"; // first: it takes a reset key out of the address
import { h, render } from "preact";
import { SignedOut, api, hasSession, problem, refreshTokens, signOut, whenSignedOut } from "./api.js";
import { App, screen } from "./app.jsx";
import { showReset, showSignIn } from "./auth.jsx";
import { openChat, resetChat, watchOtherTabs } from "./chat/session.js";
import { loadConversations } from "./conversations.js";
import { currentRoute, go, whenRouted } from "./router.js";
import { models, user } from "./state.js";
import { applyTheme } from "./theme.js";
import { confirmDialog } from "./ui/dialogs.jsx";
import { say } from "./ui/notices.js";

const root = document.getElementById("app");

function showAuth(message, options) {
  user.value = null;
  resetChat();
  screen.value = "auth";
  showSignIn(options);
  say(message);
}

async function showApp() {
  const [me, settings] = await Promise.all([api("/api/v1/user"), api("/api/v1/user/settings")]);
  user.value = me;
  applyTheme(settings.theme);
  screen.value = "app";
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

async function signOutHere() {
  await signOut();
  history.replaceState(null, "", "/");
  showAuth("Signed out.");
}

whenRouted((id) => openChat(id));
whenSignedOut(() => showAuth("Your session ended; please sign in again."));
watchOtherTabs();

render(h(App, {
  maxChars: root.dataset.maxMessageChars,
  onSignedIn: showApp,
  onSignOut: signOutHere,
}), root);

(async () => {
  try {
    // Public: fetched without a token (no refresh needed before the page knows who you are).
    const r = await fetch("/api/v1/models");
    if (!r.ok) throw await problem(r);
    models.value = await r.json().then((body) => body.results ?? body);
  } catch (error) { say(error.message); }
  if (resetKey) { showAuth(""); showReset(resetKey); return; }
  if (resetKey === "") {
    history.replaceState(null, "", "/");
    showAuth("This reset link is incomplete: ask for a new one with “Forgot password?”.");
    return;
  }
  if (!hasSession()) { showAuth(); return; }
  try {
    await refreshTokens();
    await showApp();
  } catch (error) {
    showAuth(error instanceof SignedOut ? "Please sign in again." : error.message);
  }
})();
