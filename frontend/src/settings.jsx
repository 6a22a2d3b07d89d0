// The user's settings: theme, language, time zone and name, password, devices, plan and today's
// quota, API keys.
import { useEffect, useRef, useState } from "preact/hooks";
import { allPages, api, signOut } from "./api.js";
import { formatDateTime, setTimeZone, timeZone, timeZoneLabel, timeZoneNames } from "./dates.js";
import { LANGUAGES, setLanguage, t } from "./i18n.js";
import { INSTRUCTIONS_TAB } from "./settings_instructions.jsx";
import { broadcast, user } from "./state.js";
import { applyTheme } from "./theme.js";
import { confirmDialog, openDialog } from "./ui/dialogs.jsx";
import { useLoad } from "./ui/load.js";
import { PasswordRules } from "./ui/password_rules.jsx";
import { announce, copyText, say } from "./ui/notices.js";
import { dataTab } from "./settings_data.jsx";

const Field = ({ label, children }) => <label class="field"><span>{label}</span>{children}</label>;
const Loading = () => <p class="muted">{t("common.loading")}</p>;
const when = (iso) => formatDateTime(iso);

// 1536 -> "1.5 KiB": sizes as the server's messages write them.
function size(bytes) {
  const units = ["", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit ? `${Number(value.toPrecision(3))} ${units[unit]}` : t("settings.size_bytes", { count: value });
}

const themeName = (theme) => t(`settings.theme_${theme}`);

// The account's language ("" follows the browser): the page changes at once, and the choice is
// saved on the account so every device and the server's own words (errors, mails) follow it.
function LanguagePicker({ saved }) {
  const [value, setValue] = useState(saved);
  const choose = async (event) => {
    const code = event.currentTarget.value;
    setValue(code);
    setLanguage(code);
    try {
      await api("/api/v1/user/settings", { method: "PATCH", body: { language: code } });
      broadcast({ type: "preferences", language: code }); // the other tabs change too (main.js)
      announce(t("settings.language_saved"));
    } catch (error) { say(error.message); }
  };
  return (
    <Field label={t("settings.language")}>
      <select id="settings-language" value={value} onChange={choose}>
        <option value="">{t("settings.language_browser")}</option>
        {LANGUAGES.map((l) => <option value={l.code} lang={l.code}>{l.name}</option>)}
      </select>
    </Field>
  );
}

function TimeZonePicker({ saved }) {
  const [value, setValue] = useState(saved || timeZone.value);
  const choose = async (event) => {
    const zone = event.currentTarget.value;
    setValue(zone);
    try {
      await api("/api/v1/user/settings", { method: "PATCH", body: { time_zone: zone } });
      setTimeZone(zone);
      broadcast({ type: "preferences", time_zone: zone });
      announce(t("settings.time_zone_saved"));
    } catch (error) { say(error.message); }
  };
  return (
    <Field label={t("settings.time_zone")}>
      <select id="settings-time-zone" value={value} onChange={choose} aria-describedby="time-zone-help">
        {timeZoneNames(value).map((zone) => <option value={zone}>{timeZoneLabel(zone)}</option>)}
      </select>
      <span id="time-zone-help" class="muted">{t("settings.time_zone_help")}</span>
    </Field>
  );
}

function General() {
  const { data: settings } = useLoad(() => api("/api/v1/user/settings"));
  const name = useRef(null);
  if (!settings) return <Loading />;
  const setTheme = async (theme) => {
    applyTheme(theme);
    try {
      await api("/api/v1/user/settings/theme", { method: "PUT", body: { theme } });
      announce(t("settings.theme_saved", { theme: themeName(theme) }));
    } catch (error) { say(error.message); }
  };
  const saveName = async (event) => {
    event.preventDefault();
    try {
      user.value = await api("/api/v1/user", { method: "PATCH", body: { display_name: name.current.value.trim() } });
      announce(t("settings.name_saved"));
    } catch (error) { say(error.message); }
  };
  return (
    <div class="stack">
      <fieldset class="choices">
        <legend>{t("settings.theme")}</legend>
        {["light", "dark", "system"].map((theme) => (
          <label>
            <input type="radio" name="theme" value={theme} defaultChecked={settings.theme === theme} onChange={() => setTheme(theme)} />
            {` ${themeName(theme)}`}
          </label>
        ))}
      </fieldset>
      <LanguagePicker saved={settings.language ?? ""} />
      <TimeZonePicker saved={settings.time_zone ?? ""} />
      <form class="stack" onSubmit={saveName}>
        <Field label={t("settings.display_name")}><input ref={name} type="text" maxlength="150" defaultValue={user.value.display_name || ""} autocomplete="name" /></Field>
        <button type="submit">{t("settings.save_name")}</button>
      </form>
      <p class="muted">{t("settings.signed_in_as", { email: user.value.email })}</p>
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
      announce(t("settings.password_changed"));
      setChanged(true);
    } catch (error) { say(error.message); }
  };
  return (
    <form class="stack" onSubmit={submit}>
      <Field label={t("settings.current_password")}><input ref={old} type="password" autocomplete="current-password" maxlength="128" required /></Field>
      <Field label={t("settings.new_password")}><input ref={fresh} type="password" autocomplete="new-password" maxlength="128" required aria-describedby="change-rules" /></Field>
      <PasswordRules id="change-rules" note={t("settings.other_devices_signed_out_note")} />
      <button type="submit" class="primary">{t("settings.change_password")}</button>
      {changed ? <p class="ok" role="status">{t("settings.password_changed_long")}</p> : null}
    </form>
  );
}

function Devices() {
  const { data: devices, reload } = useLoad(() => allPages("/api/v1/auth/devices?page_size=100"));
  if (!devices) return <Loading />;
  const signOutDevice = async (device, name) => {
    if (!(await confirmDialog({ title: t("settings.sign_out_device_title"), text: t("settings.sign_out_device_text", { name }), confirm: t("settings.sign_out") }))) return;
    try {
      await api(`/api/v1/auth/devices/${device.id}`, { method: "DELETE" });
      if (device.current) { await signOut(); location.assign("/"); return; }
      announce(t("settings.device_signed_out"));
      reload();
    } catch (error) { say(error.message); }
  };
  const everywhere = async () => {
    if (!(await confirmDialog({ title: t("settings.everywhere_title"), text: t("settings.everywhere_text"), confirm: t("settings.sign_out_everywhere") }))) return;
    try { await api("/api/v1/auth/logout", { method: "POST", body: { all: true } }); } catch { /* signed out anyway */ }
    await signOut();
    location.assign("/");
  };
  return (
    <div class="stack">
      <ul class="rows" aria-label={t("settings.devices")}>
        {devices.map((device) => {
          const name = device.name || device.user_agent || device.device_id;
          const seen = device.last_seen_at ? when(device.last_seen_at) : t("settings.never");
          const type = t(`settings.login_${device.login_type}`);
          return (
            <li key={device.id}>
              <div>
                <strong>{name}</strong>{device.current ? t("settings.this_device") : ""}
                <div class="muted">{`${t("settings.device_line", { type: type.startsWith("settings.") ? device.login_type : type, seen })}${device.ip ? ` · ${device.ip}` : ""}`}</div>
              </div>
              <button type="button" class="danger" aria-label={t("settings.sign_out_name", { name })} onClick={() => signOutDevice(device, name)}>{t("settings.sign_out")}</button>
            </li>
          );
        })}
      </ul>
      <button type="button" class="danger" onClick={everywhere}>{t("settings.sign_out_everywhere")}</button>
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
      announce(t("settings.plan_saved", { name: plan.name }));
      reload();
    } catch (error) { say(error.message); }
  };
  const concurrent = details.max_concurrent_generations;
  const storage = subscription.storage;
  const files = storage && (storage.limit_bytes
    ? t("settings.storage_used", { used: size(storage.used_bytes), limit: size(storage.limit_bytes) })
    : t("settings.storage_unlimited", { used: size(storage.used_bytes) }));
  return (
    <div class="stack">
      <p>{t("settings.plan_is")} <strong>{details.name}</strong></p>
      <p id="quota">{limit ? t("settings.quota_used", { used: used ?? "?", count: limit }) : t("settings.quota_unlimited", { count: used ?? 0 })}</p>
      {limit ? <meter min="0" max={String(limit)} value={String(used ?? 0)} aria-label={t("settings.quota_meter")} /> : null}
      {usage?.resets_at ? <p class="muted">{t("settings.resets", { when: when(usage.resets_at) })}</p> : null}
      {files ? <p id="storage">{files}</p> : null}
      <p class="muted">{t("settings.concurrent", { count: concurrent })}</p>
      {choices.length ? (
        <div>
          <h3>{t("settings.switch_plan")}</h3>
          {choices.map((p) => <button type="button" onClick={() => switchTo(p)}>{t("settings.switch_to", { name: p.name })}</button>)}
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
    if (!(await confirmDialog({ title: t("settings.revoke_title"), text: t("settings.revoke_text", { name: key.name }), confirm: t("settings.revoke") }))) return;
    try { await api(`/api/v1/api-keys/${key.id}`, { method: "DELETE" }); reload(); }
    catch (error) { say(error.message); }
  };
  return (
    <div class="stack">
      <p class="muted">{t("settings.base_url", { url: `${location.origin}/v1` })}</p>
      <form class="inline" onSubmit={create}>
        <Field label={t("settings.key_name")}><input ref={name} type="text" maxlength="60" required placeholder={t("settings.key_name_placeholder")} /></Field>
        <button type="submit" class="primary">{t("settings.create_key")}</button>
      </form>
      {created ? (
        <div class="secret" role="status">
          <p>{t("settings.copy_key_now")}</p>
          <input type="text" readOnly value={created.key} aria-label={t("settings.new_key")} />
          <button type="button" onClick={() => copyText(created.key)}>{t("settings.copy_key")}</button>
        </div>
      ) : null}
      <ul class="rows" aria-label={t("settings.your_keys")}>
        {(keys ?? []).map((key) => (
          <li key={key.id}>
            <div>
              <strong>{key.name}</strong>
              <div class="muted">{`${key.prefix}… · ${key.last_used_at ? t("settings.last_used", { when: when(key.last_used_at) }) : t("settings.never_used")}`}</div>
            </div>
            <button type="button" class="danger" aria-label={t("settings.revoke_name", { name: key.name })} onClick={() => revoke(key)}>{t("settings.revoke")}</button>
          </li>
        ))}
      </ul>
    </div>
  );
}

// [name, panel]: the name a component, so it follows the language (as the other modules' tabs do).
const named = (label) => { const Name = () => label(); return <Name />; };
const TABS = [
  [named(() => t("settings.tab_general")), General],
  [named(() => t("settings.tab_password")), Password],
  [named(() => t("settings.tab_devices")), Devices],
  [named(() => t("settings.tab_plan")), Plan],
  [named(() => t("settings.tab_api_keys")), ApiKeys],
];
TABS.splice(1, 0, INSTRUCTIONS_TAB); // settings_instructions.jsx

TABS.push(dataTab); // Data controls (settings_data.jsx)

// Tabs as the ARIA pattern has them: arrows move between tabs, Tab goes into the panel.
function Settings({ start }) {
  const [selected, setSelected] = useState(start);
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
      <div role="tablist" aria-label={t("settings.sections")} class="tabs" onKeyDown={onKeyDown}>
        {TABS.map(([name], index) => (
          <button ref={(el) => { tabs.current[index] = el; }} type="button" role="tab" id={`tab-${index}`}
            aria-selected={String(index === selected)} tabIndex={index === selected ? 0 : -1} onClick={() => select(index)}>{name}</button>
        ))}
      </div>
      <div class="tab-panel" role="tabpanel" tabIndex={0} aria-labelledby={`tab-${selected}`}><Panel key={selected} /></div>
    </div>
  );
}

// `start`: the index of the tab shown first.
export function openSettings(start = 0) {
  openDialog({ title: () => t("settings.title"), wide: true, body: () => <Settings start={start} /> });
}
