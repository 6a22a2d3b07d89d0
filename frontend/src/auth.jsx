// Signing in and registering, and the forgotten-password cards: "Reset your password" (mails a link)
// and "Choose a new password" (the link's page, /reset-password#key=<key>; reset_key.js has already
// taken the key out of the address).
import { signal } from "@preact/signals";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { forget, register, signIn } from "./api.js";
import { say } from "./ui/notices.js";

// What the sign-in screen shows: `card` null (the form), "forgot" or "reset" (with `key`); `title`
// replaces the form's heading once; `visits` counts the times it was shown (the email takes the focus).
const authView = signal({ card: null, key: null, title: null, visits: 0 });

export function showSignIn({ title = null } = {}) {
  authView.value = { card: null, key: null, title, visits: authView.value.visits + 1 };
}
export const showReset = (key) => { authView.value = { ...authView.value, card: "reset", key }; };

async function allauthPost(path, body) {
  const r = await fetch(`/_allauth/app/v1/auth/password/${path}`, { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  // 401 after a reset means "done, now sign in" (no session is opened by a reset).
  if (r.ok || (path === "reset" && r.status === 401)) return;
  let text = `The server answered ${r.status}.`;
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
    throw new Error("Could not sign in with this email and password. If the email already has an account, sign in with its password or use “Forgot password?”.");
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
    <Card title="Reset your password" submitLabel="Send reset link"
      onSubmit={async () => {
        await allauthPost("request", { email: email.current.value.trim() });
        setSent("If an account uses that email, a link to reset its password is on its way.");
      }}
      extra={<>
        <p role="status">{sent}</p>
        <button type="button" class="link" onClick={() => { say(""); showSignIn(); }}>Back to sign in</button>
      </>}>
      <p class="muted">Enter your account's email: we send it a link to choose a new password.</p>
      <label class="field"><span>Email</span>
        <input ref={email} type="email" autocomplete="username" maxlength="254" required defaultValue={typed} /></label>
    </Card>
  );
}

function Reset({ resetKey }) {
  const password = useRef(null);
  return (
    <Card title="Choose a new password" submitLabel="Set new password" onSubmit={async () => {
      await allauthPost("reset", { key: resetKey, password: password.current.value });
      history.replaceState(null, "", "/");
      forget();
      showSignIn({ title: "Password changed: sign in with the new one" });
    }}>
      <label class="field"><span>New password</span>
        <input ref={password} type="password" autocomplete="new-password" maxlength="128" required /></label>
      <p class="muted">At least 8 characters, not only digits, not a common password. Every device signed in with the old password is signed out.</p>
    </Card>
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
    await onSignedIn();
  });
  // Switching between signing in and registering drops this visit's heading ("Password changed...").
  const switchMode = () => { setRegistering(!registering); setSwitchedAt(visits); say(""); };
  const heading = switchedAt === visits ? null : title;

  return (
    <main id="auth">
      <form id="auth-form" data-mode={registering ? "register" : "login"} hidden={Boolean(card)} onSubmit={submit}>
        <h1 id="auth-title">{registering ? "Create your account" : heading ?? "Welcome back"}</h1>
        <label class="field"><span>Email</span>
          <input ref={email} id="email" type="email" autocomplete="username" maxlength="254" required /></label>
        <label class="field" id="name-field" hidden={!registering}><span>Name (optional)</span>
          <input ref={name} id="display-name" type="text" autocomplete="name" maxlength="150" /></label>
        <label class="field"><span>Password</span>
          <input ref={password} id="password" type="password" autocomplete={registering ? "new-password" : "current-password"} maxlength="128" required /></label>
        <button id="auth-submit" type="submit" class="primary" disabled={busy}>{registering ? "Create account" : "Sign in"}</button>
        <button id="auth-switch" type="button" class="link" onClick={switchMode}>{registering ? "I already have an account" : "Create an account"}</button>
        <button id="auth-forgot" type="button" class="link" onClick={() => { say(""); authView.value = { ...authView.value, card: "forgot" }; }}>Forgot password?</button>
      </form>
      {card === "forgot" ? <Forgot email={email.current?.value ?? ""} /> : null}
      {card === "reset" ? <Reset resetKey={key} /> : null}
    </main>
  );
}
