// The signed-in page: the sidebar (a drawer on a phone) beside the open chat.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ChatView } from "./chat/view.jsx";
import { openCollector } from "./collector.jsx";
import { go } from "./router.js";
import { openSettings } from "./settings.jsx";
import { Sidebar } from "./sidebar.jsx";

export function Shell({ maxChars, onSignOut }) {
  const [drawer, setDrawer] = useState({ open: false, refocus: false });
  const opener = useRef(null);
  const newChat = useRef(null);
  const open = drawer.open;
  // Opened: the focus goes into it. Closed from the keyboard or its own button: back to the opener.
  useLayoutEffect(() => {
    if (drawer.open) newChat.current.focus();
    else if (drawer.refocus) opener.current.focus();
  }, [drawer]);
  const close = (refocus = false) => setDrawer({ open: false, refocus });

  // Read by the Escape listener, registered once: a listener registered again after each change
  // would miss an Escape pressed in the frame before its effect ran.
  const isOpen = useRef(open);
  isOpen.current = open;
  useEffect(() => {
    const onKeyDown = (event) => {
      // An Escape already handled (a menu, a rename) or meant for an open dialog is not for the drawer.
      if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]") || !isOpen.current) return;
      setDrawer({ open: false, refocus: true });
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, []);

  return (
    <div id="shell" class={open ? "drawer-open" : undefined}>
      <Sidebar newChatRef={newChat}
        onNewChat={() => { close(); go(null); }}
        onClose={() => close(true)}
        onNavigate={() => close()}
        onOpenSettings={() => openSettings()}
        onOpenCollector={() => openCollector()}
        onSignOut={onSignOut} />
      <div id="backdrop" hidden={!open} onClick={() => close()} />
      <ChatView maxChars={maxChars} drawerOpen={open} openerRef={opener}
        onOpenDrawer={() => setDrawer({ open: !open, refocus: false })} />
    </div>
  );
}
