// The theme (light, dark, system): applied before the first paint by the page's own line from
// localStorage, then from the user's saved settings.
const THEME_KEY = "chat.theme";

export function applyTheme(theme) {
  document.documentElement.dataset.theme = theme || "system";
  localStorage.setItem(THEME_KEY, theme || "system");
}
