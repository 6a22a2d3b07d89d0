// The web client at / and /c/<id>: an SPA over the public REST API. This module composes it: it
// renders the page, wires the router and the sign-out to the screens, and starts the session.
import { resetKey } from "./reset_key.js"; // first: it takes a reset key out of the address
import { h, render } from "preact";
import { SignedOut, api, hasSession, languageHeaders, problem, refreshTokens, signOut, whenSignedOut } from "./api.js";
import { App, screen } from "./app.jsx";
import { browserTimeZone, setTimeZone } from "./dates.js";
import { lang, setLanguage, t } from "./i18n.js";
import { showReset, showSignIn } from "./auth.jsx";
import { openChat, resetChat, watchOtherTabs } from "./chat/session.js";
import { loadToolSets } from "./chat/tools_settings.jsx";
import { loadConversations } from "./conversations.js";
import { currentRoute, go, whenRouted } from "./router.js";
import { models, onBroadcast, user } from "./state.js";
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

// The account's language and time zone, at sign-in. Its saved language wins; without one the page
// keeps the browser's (or the one picked on the sign-in screen, which a new account keeps as its
// own). An account without a zone takes this browser's, so its days start at its own midnight.
function applyPreferences(settings, { registered }) {
  const changes = {};
  if (settings.language) setLanguage(settings.language);
  else if (registered && localStorage.getItem("chat.lang") === lang.value) changes.language = lang.value;
  if (!settings.time_zone) changes.time_zone = browserTimeZone();
  setTimeZone(settings.time_zone || changes.time_zone);
  if (Object.keys(changes).length) {
    api("/api/v1/user/settings", { method: "PATCH", body: changes }).catch((error) => say(error.message));
  }
}

async function showApp({ registered = false } = {}) {
  const [me, settings] = await Promise.all([api("/api/v1/user"), api("/api/v1/user/settings")]);
  user.value = me;
  applyTheme(settings.theme);
  applyPreferences(settings, { registered });
  screen.value = "app";
  say("");
  loadConversations();
  loadToolSets(); // for the header's tools badge
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
      title: t("shell.continue_share_title"),
      text: t("shell.continue_share_text", { title: share.title || t("shell.untitled"), count: share.messages?.length ?? 0 }),
      confirm: t("shell.add_a_copy"),
      danger: false,
    });
    if (!yes) return false;
    const conversation = await api(`${path}/clone`, { method: "POST" });
    loadConversations();
    await go(conversation.id, { replace: true });
    return true;
  } catch (error) {
    say(t("shell.continue_share_failed", { error: error.message }));
    return false;
  }
}

async function signOutHere() {
  await signOut();
  history.replaceState(null, "", "/");
  showAuth(t("shell.signed_out"));
}

whenRouted((id) => openChat(id));
// Language or zone changed in another tab's Settings: this tab follows (it was saved there).
onBroadcast((message) => {
  if (message.type !== "preferences") return;
  if ("language" in message) setLanguage(message.language, { remember: false });
  if (message.time_zone) setTimeZone(message.time_zone);
});
whenSignedOut(() => showAuth(t("shell.session_ended")));
watchOtherTabs();

render(h(App, {
  maxChars: root.dataset.maxMessageChars,
  onSignedIn: showApp,
  onSignOut: signOutHere,
}), root);

(async () => {
  try {
    // Public: fetched without a token (no refresh needed before the page knows who you are).
    const r = await fetch("/api/v1/models", { headers: languageHeaders() });
    if (!r.ok) throw await problem(r);
    models.value = await r.json().then((body) => body.results ?? body);
  } catch (error) { say(error.message); }
  if (resetKey) { showAuth(""); showReset(resetKey); return; }
  if (resetKey === "") {
    history.replaceState(null, "", "/");
    showAuth(t("shell.reset_link_incomplete"));
    return;
  }
  if (!hasSession()) { showAuth(); return; }
  try {
    await refreshTokens();
    await showApp();
  } catch (error) {
    showAuth(error instanceof SignedOut ? t("shell.sign_in_again") : error.message);
  }
})();
