// Signing in and registering, and the forgotten-password cards: "Reset your password" (mails a link)
// and "Choose a new password" (the link's page, /reset-password#key=<key>; reset_key.js has already
// taken the key out of the address).
import { signal } from "@preact/signals";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { forget, languageHeaders, register, signIn } from "./api.js";
import { LANGUAGES, lang, setLanguage, t } from "./i18n.js";
import { PasswordRules } from "./ui/password_rules.jsx";
import { say } from "./ui/notices.js";

// What the sign-in screen shows: `card` null (the form), "forgot" or "reset" (with `key`); `title`
// (a catalog key, so it follows a change of language) replaces the form's heading once; `visits` counts the times it was shown (the email takes the focus).
const authView = signal({ card: null, key: null, title: null, visits: 0 });

export function showSignIn({ title = null } = {}) {
  authView.value = { card: null, key: null, title, visits: authView.value.visits + 1 };
}
export const showReset = (key) => { authView.value = { ...authView.value, card: "reset", key }; };

async function allauthPost(path, body) {
  const r = await fetch(`/_allauth/app/v1/auth/password/${path}`, { method: "POST",
    headers: { "Content-Type": "application/json", ...languageHeaders() }, body: JSON.stringify(body) });
  // 401 after a reset means "done, now sign in" (no session is opened by a reset).
  if (r.ok || (path === "reset" && r.status === 401)) return;
  let text = t("auth.server_answered", { status: r.status });
  try { text = (await r.json()).errors.map((e) => e.message).join(" ") || text; } catch { /* not JSON */ }
  throw new Error(text);
}

// Registering answers alike whether or not the email already has an account (the server never
// says which); signing in next tells the person registering only whether *their* password works.
async function registerAndSignIn(email, password, displayName) {
  await register(email, password, displayName);
  try {
    await signIn(email, password);
  } catch (error) {
    if (error.status !== 401) throw error;
    throw new Error(t("auth.register_then_sign_in_failed"));
  }
}

// A form whose submit button is disabled while `onSubmit` runs; what fails is said.
function useSubmit(onSubmit) {
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    say("");
    try { await onSubmit(); } catch (error) { say(error.message); } finally { setBusy(false); }
  };
  return [busy, submit];
}

// The forgot and reset cards exist only while shown, so the sign-in form's "Email" and "Password"
// stay the only visible fields of those names.
function Card({ title, submitLabel, onSubmit, children, extra }) {
  const form = useRef(null);
  const [busy, submit] = useSubmit(onSubmit);
  useLayoutEffect(() => form.current.querySelector("input").focus(), []);
  return (
    <form ref={form} id="auth-card" class="auth-card" onSubmit={submit}>
      <h1>{title}</h1>
      {children}
      <button type="submit" class="primary" disabled={busy}>{submitLabel}</button>
      {extra}
    </form>
  );
}

function Forgot({ email: typed }) {
  const email = useRef(null);
  const [sent, setSent] = useState("");
  return (
    <Card title={t("auth.reset_title")} submitLabel={t("auth.send_reset_link")}
      onSubmit={async () => {
        await allauthPost("request", { email: email.current.value.trim() });
        setSent(t("auth.reset_sent"));
      }}
      extra={<>
        <p role="status">{sent}</p>
        <button type="button" class="link" onClick={() => { say(""); showSignIn(); }}>{t("auth.back_to_sign_in")}</button>
      </>}>
      <p class="muted">{t("auth.reset_intro")}</p>
      <label class="field"><span>{t("auth.email")}</span>
        <input ref={email} type="email" autocomplete="username" maxlength="254" required defaultValue={typed} /></label>
    </Card>
  );
}

function Reset({ resetKey }) {
  const password = useRef(null);
  return (
    <Card title={t("auth.choose_new_password")} submitLabel={t("auth.set_new_password")} onSubmit={async () => {
      await allauthPost("reset", { key: resetKey, password: password.current.value });
      history.replaceState(null, "", "/");
      forget();
      showSignIn({ title: "auth.password_changed_sign_in" });
    }}>
      <label class="field"><span>{t("auth.new_password")}</span>
        <input ref={password} type="password" autocomplete="new-password" maxlength="128" required aria-describedby="reset-rules" /></label>
      <PasswordRules id="reset-rules" note={t("auth.reset_signs_out")} />
    </Card>
  );
}

// Before sign-in the language is the browser's or the one picked here (remembered in this browser);
// once signed in, the one saved on the account wins (main.js).
function LanguageSwitch() {
  return (
    <select id="auth-language" class="language-switch" aria-label={t("auth.language")} value={lang.value}
      onChange={(event) => setLanguage(event.currentTarget.value)}>
      {LANGUAGES.map((l) => <option value={l.code} lang={l.code}>{l.name}</option>)}
    </select>
  );
}

export function AuthScreen({ onSignedIn }) {
  const { card, key, title, visits } = authView.value;
  const [registering, setRegistering] = useState(false);
  const [switchedAt, setSwitchedAt] = useState(-1); // the visit in which the mode was switched
  const email = useRef(null);
  const password = useRef(null);
  const name = useRef(null);
  useLayoutEffect(() => { if (!card) email.current.focus(); }, [visits]);
  const [busy, submit] = useSubmit(async () => {
    const address = email.current.value.trim();
    if (registering) await registerAndSignIn(address, password.current.value, name.current.value.trim());
    else await signIn(address, password.current.value);
    password.current.value = "";
    await onSignedIn({ registered: registering });
  });
  // Switching between signing in and registering drops this visit's heading ("Password changed...").
  const switchMode = () => { setRegistering(!registering); setSwitchedAt(visits); say(""); };
  const heading = switchedAt === visits ? null : title;

  return (
    <main id="auth">
      <LanguageSwitch />
      <form id="auth-form" data-mode={registering ? "register" : "login"} hidden={Boolean(card)} onSubmit={submit}>
        <h1 id="auth-title">{registering ? t("auth.create_your_account") : heading ? t(heading) : t("auth.welcome_back")}</h1>
        <label class="field"><span>{t("auth.email")}</span>
          <input ref={email} id="email" type="email" autocomplete="username" maxlength="254" required /></label>
        <label class="field" id="name-field" hidden={!registering}><span>{t("auth.name_optional")}</span>
          <input ref={name} id="display-name" type="text" autocomplete="name" maxlength="150" /></label>
        <label class="field"><span>{t("auth.password")}</span>
          <input ref={password} id="password" type="password" autocomplete={registering ? "new-password" : "current-password"} maxlength="128" required
            aria-describedby={registering ? "signup-rules" : undefined} /></label>
        {registering ? <PasswordRules id="signup-rules" /> : null}
        <button id="auth-submit" type="submit" class="primary" disabled={busy}>{registering ? t("auth.create_account") : t("auth.sign_in")}</button>
        <button id="auth-switch" type="button" class="link" onClick={switchMode}>{registering ? t("auth.have_account") : t("auth.create_an_account")}</button>
        <button id="auth-forgot" type="button" class="link" onClick={() => { say(""); authView.value = { ...authView.value, card: "forgot" }; }}>{t("auth.forgot_password")}</button>
      </form>
      {card === "forgot" ? <Forgot email={email.current?.value ?? ""} /> : null}
      {card === "reset" ? <Reset resetKey={key} /> : null}
    </main>
  );
}
