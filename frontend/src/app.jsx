// The whole page: the sign-in screen or the signed-in shell, the page's alert line and polite
// announcements, and the open dialogs.
import { signal } from "@preact/signals";
import { AuthScreen } from "./auth.jsx";
import { t } from "./i18n.js";
import { Shell } from "./shell.jsx";
import { Dialogs } from "./ui/dialogs.jsx";
import { announcement, status } from "./ui/notices.js";

export const screen = signal("loading"); // "auth" | "app"

export function App({ maxChars, onSignedIn, onSignOut }) {
  return (
    <>
      <a class="skip" href="#composer-input">{t("shell.skip_to_composer")}</a>
      <div id="announcer" class="offscreen" role="status" aria-live="polite">{announcement.value}</div>
      <div id="status" role="alert" hidden={!status.value}>{status.value}</div>
      {screen.value === "auth" ? <AuthScreen onSignedIn={onSignedIn} /> : null}
      {screen.value === "app" ? <Shell maxChars={maxChars} onSignOut={onSignOut} /> : null}
      <Dialogs />
    </>
  );
}
