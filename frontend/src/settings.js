// The user's settings: theme and name, password, devices, plan and today's quota, API keys.
import { allPages, api, signOut } from "./api.js";
import { $, announce, confirmDialog, copyText, h, openDialog, say } from "./dom.js";
import { state } from "./state.js";

const THEME_KEY = "chat.theme";

// Applied before the first paint from localStorage, then from the user's saved settings.
export function applyTheme(theme) {
  document.documentElement.dataset.theme = theme || "system";
  localStorage.setItem(THEME_KEY, theme || "system");
}
applyTheme(localStorage.getItem(THEME_KEY));

const TABS = [
  ["General", general],
  ["Password", password],
  ["Devices", devices],
  ["Plan", plan],
  ["API keys", apiKeys],
];

export function openSettings(start = "General") {
  const panel = h("div", { class: "tab-panel", role: "tabpanel", tabindex: "0" });
  const tabs = TABS.map(([name, build], index) => {
    const tab = h("button", { type: "button", role: "tab", id: `tab-${index}`, "aria-selected": "false", tabindex: "-1",
      onclick: () => select(index) }, name);
    tab.build = build;
    return tab;
  });
  const list = h("div", { role: "tablist", "aria-label": "Settings sections", class: "tabs" }, tabs);
  list.addEventListener("keydown", (event) => {
    const at = tabs.indexOf(document.activeElement);
    if (event.key === "ArrowRight" || event.key === "ArrowDown") { event.preventDefault(); select((at + 1) % tabs.length, true); }
    if (event.key === "ArrowLeft" || event.key === "ArrowUp") { event.preventDefault(); select((at - 1 + tabs.length) % tabs.length, true); }
  });
  async function select(index, focus = false) {
    tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
    });
    if (focus) tabs[index].focus();
    panel.setAttribute("aria-labelledby", tabs[index].id);
    panel.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try { panel.replaceChildren(await tabs[index].build()); } catch (error) { panel.replaceChildren(); say(error.message); }
  }
  openDialog({ title: "Settings", body: h("div", { class: "settings" }, list, panel), wide: true });
  select(Math.max(0, TABS.findIndex(([name]) => name === start)), true);
}

const field = (label, input) => h("label", { class: "field" }, h("span", {}, label), input);

async function general() {
  const settings = await api("/api/v1/user/settings");
  const themes = h("fieldset", { class: "choices" }, h("legend", {}, "Theme"),
    ["light", "dark", "system"].map((theme) => h("label", {},
      h("input", { type: "radio", name: "theme", value: theme, checked: settings.theme === theme,
        onchange: async () => {
          applyTheme(theme);
          try { await api("/api/v1/user/settings/theme", { method: "PUT", body: { theme } }); announce(`Theme: ${theme}`); }
          catch (error) { say(error.message); }
        } }),
      ` ${theme[0].toUpperCase()}${theme.slice(1)}`)));
  const name = h("input", { type: "text", maxlength: "150", value: state.user.display_name || "", autocomplete: "name" });
  const form = h("form", { class: "stack" }, field("Display name", name), h("button", { type: "submit" }, "Save name"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      state.user = await api("/api/v1/user", { method: "PATCH", body: { display_name: name.value.trim() } });
      $("#who").textContent = state.user.display_name || state.user.email;
      announce("Name saved");
    } catch (error) { say(error.message); }
  });
  return h("div", { class: "stack" }, themes, form, h("p", { class: "muted" }, `Signed in as ${state.user.email}`));
}

async function password() {
  const old = h("input", { type: "password", autocomplete: "current-password", maxlength: "128", required: true });
  const fresh = h("input", { type: "password", autocomplete: "new-password", maxlength: "128", required: true, minlength: "8" });
  const form = h("form", { class: "stack" }, field("Current password", old), field("New password", fresh),
    h("p", { class: "muted" }, "At least 8 characters, not only digits, not a common password. Your other devices are signed out."),
    h("button", { type: "submit", class: "primary" }, "Change password"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/api/v1/auth/password/change", { method: "POST", body: { old_password: old.value, new_password: fresh.value } });
      old.value = ""; fresh.value = "";
      say("");
      announce("Password changed");
      form.append(h("p", { class: "ok", role: "status" }, "Password changed. Your other devices were signed out."));
    } catch (error) { say(error.message); }
  });
  return form;
}

async function devices() {
  const list = await allPages("/api/v1/auth/devices?page_size=100");
  const rows = list.map((device) => {
    const name = device.name || device.user_agent || device.device_id;
    const seen = device.last_seen_at ? new Date(device.last_seen_at).toLocaleString() : "never";
    return h("li", {}, h("div", {}, h("strong", {}, name), device.current ? " (this device)" : "",
      h("div", { class: "muted" }, `${device.login_type} · last active ${seen}${device.ip ? ` · ${device.ip}` : ""}`)),
    h("button", { type: "button", class: "danger", "aria-label": `Sign out ${name}`, onclick: async () => {
      if (!(await confirmDialog({ title: "Sign out device?", text: `Sign out “${name}”?`, confirm: "Sign out" }))) return;
      try {
        await api(`/api/v1/auth/devices/${device.id}`, { method: "DELETE" });
        if (device.current) { await signOut(); location.assign("/"); return; }
        announce("Device signed out");
        document.querySelector("[role=tab][aria-selected=true]")?.click();
      } catch (error) { say(error.message); }
    } }, "Sign out"));
  });
  const everywhere = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmDialog({ title: "Sign out everywhere?", text: "Every device, this one included, must sign in again.", confirm: "Sign out everywhere" }))) return;
    try { await api("/api/v1/auth/logout", { method: "POST", body: { all: true } }); } catch { /* signed out anyway */ }
    await signOut();
    location.assign("/");
  } }, "Sign out everywhere");
  return h("div", { class: "stack" }, h("ul", { class: "rows", "aria-label": "Signed-in devices" }, rows), everywhere);
}

// 1536 -> "1.5 KiB": sizes as the server's messages write them.
function size(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit ? `${Number(value.toPrecision(3))} ${units[unit]}` : `${value} bytes`;
}

async function plan() {
  const [subscription, plans] = await Promise.all([
    api("/api/v1/user/settings/subscription"),
    allPages("/api/v1/plans").catch(() => []),
  ]);
  const details = subscription.plan_details;
  const usage = subscription.usage_today;
  const limit = usage?.daily_message_limit ?? details.daily_message_limit;
  const used = usage?.messages_sent;
  const quota = limit
    ? `${used ?? "?"} of ${limit} messages used today`
    : `${used ?? 0} messages today (no daily limit)`;
  const meter = limit ? h("meter", { min: "0", max: String(limit), value: String(used ?? 0), "aria-label": "Messages used today" }) : "";
  const storage = subscription.storage;
  const files = storage && (storage.limit_bytes
    ? `${size(storage.used_bytes)} of ${size(storage.limit_bytes)} of file storage used`
    : `${size(storage.used_bytes)} of files stored (no storage limit)`);
  const choices = plans.filter((p) => p.selectable_by_user && p.slug !== subscription.plan);
  return h("div", { class: "stack" },
    h("p", {}, "Plan: ", h("strong", {}, details.name)),
    h("p", { id: "quota" }, quota), meter,
    usage?.resets_at ? h("p", { class: "muted" }, `Resets ${new Date(usage.resets_at).toLocaleString()}`) : "",
    files ? h("p", { id: "storage" }, files) : "",
    h("p", { class: "muted" }, `Up to ${details.max_concurrent_generations} repl${details.max_concurrent_generations === 1 ? "y" : "ies"} at a time.`),
    choices.length ? h("div", {}, h("h3", {}, "Switch plan"), choices.map((p) => h("button", { type: "button", onclick: async () => {
      try {
        await api("/api/v1/user/settings/subscription", { method: "PATCH", body: { plan: p.slug } });
        announce(`Plan: ${p.name}`);
        document.querySelector("[role=tab][aria-selected=true]")?.click();
      } catch (error) { say(error.message); }
    } }, `Switch to ${p.name}`))) : "");
}

async function apiKeys() {
  const keys = await allPages("/api/v1/api-keys?page_size=100");
  const name = h("input", { type: "text", maxlength: "60", required: true, placeholder: "e.g. laptop scripts" });
  const shown = h("div", {});
  const form = h("form", { class: "inline" }, field("Key name", name), h("button", { type: "submit", class: "primary" }, "Create key"));
  const panel = h("div", { class: "stack" },
    h("p", { class: "muted" }, `For OpenAI-compatible tools: base URL ${location.origin}/v1`), form, shown,
    h("ul", { class: "rows", "aria-label": "Your API keys" }, keys.map((key) => h("li", {},
      h("div", {}, h("strong", {}, key.name), h("div", { class: "muted" },
        `${key.prefix}… · ${key.last_used_at ? `last used ${new Date(key.last_used_at).toLocaleString()}` : "never used"}`)),
      h("button", { type: "button", class: "danger", "aria-label": `Revoke ${key.name}`, onclick: async () => {
        if (!(await confirmDialog({ title: "Revoke key?", text: `Programs using “${key.name}” stop working at once.`, confirm: "Revoke" }))) return;
        try { await api(`/api/v1/api-keys/${key.id}`, { method: "DELETE" }); panel.replaceWith(await apiKeys()); }
        catch (error) { say(error.message); }
      } }, "Revoke")))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await api("/api/v1/api-keys", { method: "POST", body: { name: name.value.trim() } });
      const fresh = await apiKeys();
      fresh.querySelector("form").after(h("div", { class: "secret", role: "status" },
        h("p", {}, "Copy this key now: it is not shown again."),
        h("input", { type: "text", readonly: true, value: created.key, "aria-label": "New API key" }),
        h("button", { type: "button", onclick: () => copyText(created.key) }, "Copy key")));
      panel.replaceWith(fresh);
    } catch (error) { say(error.message); }
  });
  return panel;
}
