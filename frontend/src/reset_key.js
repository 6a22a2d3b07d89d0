// A password-reset link's key, taken out of the address before anything else runs or loads.
// main.js imports this module first, so no other module, request or history entry sees it.
// Links carry the key in the fragment (/reset-password#key=...), which browsers never send to a
// server: it stays out of access logs and proxies. Older links carried it in the path
// (/reset-password/<key>); those still work, and the server's logs redact that path.
export const RESET_PAGE = "/reset-password";

function takeResetKey() {
  const { pathname, hash } = location;
  if (pathname !== RESET_PAGE && !pathname.startsWith(`${RESET_PAGE}/`)) return null;
  let key = "";
  try {
    key = pathname === RESET_PAGE
      ? new URLSearchParams(hash.slice(1)).get("key") ?? ""
      : decodeURIComponent(pathname.slice(RESET_PAGE.length + 1));
  } catch { /* a malformed old link: no key */ }
  history.replaceState(null, "", RESET_PAGE); // the address bar and the history entry forget it
  return key;
}

// null: not the reset page; "": the reset page without a usable key; otherwise the key.
export const resetKey = takeResetKey();
