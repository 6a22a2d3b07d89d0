// Each conversation has its own address (/c/<id>): reload, back and a second tab land on it.
const CHAT_PATH = /^\/c\/([0-9a-f-]{36})\/?$/i;

let onRoute = () => {};
export function whenRouted(callback) { onRoute = callback; }

export function currentRoute() {
  const match = CHAT_PATH.exec(location.pathname);
  return match ? match[1].toLowerCase() : null;
}

export function go(id, { replace = false } = {}) {
  const path = id ? `/c/${id}` : "/";
  if (location.pathname !== path) history[replace ? "replaceState" : "pushState"](null, "", path);
  return onRoute(id);
}

// Only change the address (the page already shows that conversation, e.g. a new chat got its id).
export function setAddress(id) {
  const path = id ? `/c/${id}` : "/";
  if (location.pathname !== path) history.replaceState(null, "", path);
}

window.addEventListener("popstate", () => onRoute(currentRoute()));
