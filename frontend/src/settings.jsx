// The user's settings: theme and name, password, devices, plan and today's quota, API keys.
import { useEffect, useRef, useState } from "preact/hooks";
import { allPages, api, signOut } from "./api.js";
import { INSTRUCTIONS_TAB } from "./settings_instructions.jsx";
import { user } from "./state.js";
import { applyTheme } from "./theme.js";
import { confirmDialog, openDialog } from "./ui/dialogs.jsx";
import { useLoad } from "./ui/load.js";
import { announce, copyText, say } from "./ui/notices.js";
import { dataTab } from "./settings_data.jsx";

const Field = ({ label, children }) => <label class="field"><span>{label}</span>{children}</label>;
const Loading = () => <p class="muted">Loading…</p>;
const when = (iso) => new Date(iso).toLocaleString();

// 1536 -> "1.5 KiB": sizes as the server's messages write them.
function size(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit ? `${Number(value.toPrecision(3))} ${units[unit]}` : `${value} bytes`;
}

function General() {
  const { data: settings } = useLoad(() => api("/api/v1/user/settings"));
  const name = useRef(null);
  if (!settings) return <Loading />;
  const setTheme = async (theme) => {
    applyTheme(theme);
    try { await api("/api/v1/user/settings/theme", { method: "PUT", body: { theme } }); announce(`Theme: ${theme}`); }
    catch (error) { say(error.message); }
  };
  const saveName = async (event) => {
    event.preventDefault();
    try {
      user.value = await api("/api/v1/user", { method: "PATCH", body: { display_name: name.current.value.trim() } });
      announce("Name saved");
    } catch (error) { say(error.message); }
  };
  return (
    <div class="stack">
      <fieldset class="choices">
        <legend>Theme</legend>
        {["light", "dark", "system"].map((theme) => (
          <label>
            <input type="radio" name="theme" value={theme} defaultChecked={settings.theme === theme} onChange={() => setTheme(theme)} />
            {` ${theme[0].toUpperCase()}${theme.slice(1)}`}
          </label>
        ))}
      </fieldset>
      <form class="stack" onSubmit={saveName}>
        <Field label="Display name"><input ref={name} type="text" maxlength="150" defaultValue={user.value.display_name || ""} autocomplete="name" /></Field>
        <button type="submit">Save name</button>
      </form>
      <p class="muted">Signed in as {user.value.email}</p>
    </div>
  );
}

function Password() {
  const old = useRef(null);
  const fresh = useRef(null);
  const [changed, setChanged] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    try {
      await api("/api/v1/auth/password/change", { method: "POST", body: { old_password: old.current.value, new_password: fresh.current.value } });
      old.current.value = "";
      fresh.current.value = "";
      say("");
      announce("Password changed");
      setChanged(true);
    } catch (error) { say(error.message); }
  };
  return (
    <form class="stack" onSubmit={submit}>
      <Field label="Current password"><input ref={old} type="password" autocomplete="current-password" maxlength="128" required /></Field>
      <Field label="New password"><input ref={fresh} type="password" autocomplete="new-password" maxlength="128" required minlength="8" /></Field>
      <p class="muted">At least 8 characters, not only digits, not a common password. Your other devices are signed out.</p>
      <button type="submit" class="primary">Change password</button>
      {changed ? <p class="ok" role="status">Password changed. Your other devices were signed out.</p> : null}
    </form>
  );
}

function Devices() {
  const { data: devices, reload } = useLoad(() => allPages("/api/v1/auth/devices?page_size=100"));
  if (!devices) return <Loading />;
  const signOutDevice = async (device, name) => {
    if (!(await confirmDialog({ title: "Sign out device?", text: `Sign out “${name}”?`, confirm: "Sign out" }))) return;
    try {
      await api(`/api/v1/auth/devices/${device.id}`, { method: "DELETE" });
      if (device.current) { await signOut(); location.assign("/"); return; }
      announce("Device signed out");
      reload();
    } catch (error) { say(error.message); }
  };
  const everywhere = async () => {
    if (!(await confirmDialog({ title: "Sign out everywhere?", text: "Every device, this one included, must sign in again.", confirm: "Sign out everywhere" }))) return;
    try { await api("/api/v1/auth/logout", { method: "POST", body: { all: true } }); } catch { /* signed out anyway */ }
    await signOut();
    location.assign("/");
  };
  return (
    <div class="stack">
      <ul class="rows" aria-label="Signed-in devices">
        {devices.map((device) => {
          const name = device.name || device.user_agent || device.device_id;
          const seen = device.last_seen_at ? when(device.last_seen_at) : "never";
          return (
            <li key={device.id}>
              <div>
                <strong>{name}</strong>{device.current ? " (this device)" : ""}
                <div class="muted">{`${device.login_type} · last active ${seen}${device.ip ? ` · ${device.ip}` : ""}`}</div>
              </div>
              <button type="button" class="danger" aria-label={`Sign out ${name}`} onClick={() => signOutDevice(device, name)}>Sign out</button>
            </li>
          );
        })}
      </ul>
      <button type="button" class="danger" onClick={everywhere}>Sign out everywhere</button>
    </div>
  );
}

function Plan() {
  const { data, reload } = useLoad(() => Promise.all([
    api("/api/v1/user/settings/subscription"),
    allPages("/api/v1/plans").catch(() => []),
  ]));
  if (!data) return <Loading />;
  const [subscription, plans] = data;
  const details = subscription.plan_details;
  const usage = subscription.usage_today;
  const limit = usage?.daily_message_limit ?? details.daily_message_limit;
  const used = usage?.messages_sent;
  const choices = plans.filter((p) => p.selectable_by_user && p.slug !== subscription.plan);
  const switchTo = async (plan) => {
    try {
      await api("/api/v1/user/settings/subscription", { method: "PATCH", body: { plan: plan.slug } });
      announce(`Plan: ${plan.name}`);
      reload();
    } catch (error) { say(error.message); }
  };
  const concurrent = details.max_concurrent_generations;
  const storage = subscription.storage;
  const files = storage && (storage.limit_bytes
    ? `${size(storage.used_bytes)} of ${size(storage.limit_bytes)} of file storage used`
    : `${size(storage.used_bytes)} of files stored (no storage limit)`);
  return (
    <div class="stack">
      <p>Plan: <strong>{details.name}</strong></p>
      <p id="quota">{limit ? `${used ?? "?"} of ${limit} messages used today` : `${used ?? 0} messages today (no daily limit)`}</p>
      {limit ? <meter min="0" max={String(limit)} value={String(used ?? 0)} aria-label="Messages used today" /> : null}
      {usage?.resets_at ? <p class="muted">{`Resets ${when(usage.resets_at)}`}</p> : null}
      {files ? <p id="storage">{files}</p> : null}
      <p class="muted">{`Up to ${concurrent} repl${concurrent === 1 ? "y" : "ies"} at a time.`}</p>
      {choices.length ? (
        <div>
          <h3>Switch plan</h3>
          {choices.map((p) => <button type="button" onClick={() => switchTo(p)}>{`Switch to ${p.name}`}</button>)}
        </div>
      ) : null}
    </div>
  );
}

function ApiKeys() {
  const { data: keys, reload } = useLoad(() => allPages("/api/v1/api-keys?page_size=100"));
  const [created, setCreated] = useState(null); // shown once, until the dialog closes
  const name = useRef(null);
  const create = async (event) => {
    event.preventDefault();
    try {
      const key = await api("/api/v1/api-keys", { method: "POST", body: { name: name.current.value.trim() } });
      name.current.value = "";
      setCreated(key);
      reload();
    } catch (error) { say(error.message); }
  };
  const revoke = async (key) => {
    if (!(await confirmDialog({ title: "Revoke key?", text: `Programs using “${key.name}” stop working at once.`, confirm: "Revoke" }))) return;
    try { await api(`/api/v1/api-keys/${key.id}`, { method: "DELETE" }); reload(); }
    catch (error) { say(error.message); }
  };
  return (
    <div class="stack">
      <p class="muted">{`For OpenAI-compatible tools: base URL ${location.origin}/v1`}</p>
      <form class="inline" onSubmit={create}>
        <Field label="Key name"><input ref={name} type="text" maxlength="60" required placeholder="e.g. laptop scripts" /></Field>
        <button type="submit" class="primary">Create key</button>
      </form>
      {created ? (
        <div class="secret" role="status">
          <p>Copy this key now: it is not shown again.</p>
          <input type="text" readOnly value={created.key} aria-label="New API key" />
          <button type="button" onClick={() => copyText(created.key)}>Copy key</button>
        </div>
      ) : null}
      <ul class="rows" aria-label="Your API keys">
        {(keys ?? []).map((key) => (
          <li key={key.id}>
            <div>
              <strong>{key.name}</strong>
              <div class="muted">{`${key.prefix}… · ${key.last_used_at ? `last used ${when(key.last_used_at)}` : "never used"}`}</div>
            </div>
            <button type="button" class="danger" aria-label={`Revoke ${key.name}`} onClick={() => revoke(key)}>Revoke</button>
          </li>
        ))}
      </ul>
    </div>
  );
}

const TABS = [["General", General], ["Password", Password], ["Devices", Devices], ["Plan", Plan], ["API keys", ApiKeys]];
TABS.splice(1, 0, INSTRUCTIONS_TAB); // settings_instructions.jsx

TABS.push(dataTab); // Data controls (settings_data.jsx)

// Tabs as the ARIA pattern has them: arrows move between tabs, Tab goes into the panel.
function Settings({ start }) {
  const [selected, setSelected] = useState(Math.max(0, TABS.findIndex(([name]) => name === start)));
  const tabs = useRef([]);
  // The selected tab has the focus: at first once the dialog is open (a child's layout effect
  // would run before it is shown), then as the arrows move it.
  useEffect(() => tabs.current[selected]?.focus(), []);
  const select = (index, focus = false) => {
    setSelected(index);
    if (focus) tabs.current[index].focus();
  };
  const onKeyDown = (event) => {
    const at = tabs.current.indexOf(document.activeElement);
    if (event.key === "ArrowRight" || event.key === "ArrowDown") { event.preventDefault(); select((at + 1) % TABS.length, true); }
    if (event.key === "ArrowLeft" || event.key === "ArrowUp") { event.preventDefault(); select((at - 1 + TABS.length) % TABS.length, true); }
  };
  const Panel = TABS[selected][1];
  return (
    <div class="settings">
      <div role="tablist" aria-label="Settings sections" class="tabs" onKeyDown={onKeyDown}>
        {TABS.map(([name], index) => (
          <button ref={(el) => { tabs.current[index] = el; }} type="button" role="tab" id={`tab-${index}`}
            aria-selected={String(index === selected)} tabIndex={index === selected ? 0 : -1} onClick={() => select(index)}>{name}</button>
        ))}
      </div>
      <div class="tab-panel" role="tabpanel" tabIndex={0} aria-labelledby={`tab-${selected}`}><Panel key={selected} /></div>
    </div>
  );
}

export function openSettings(start = "General") {
  openDialog({ title: "Settings", wide: true, body: () => <Settings start={start} /> });
}
