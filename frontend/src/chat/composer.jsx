// The message box: Enter sends (Shift+Enter: a new line), it grows with its text, and while a reply
// streams Send gives way to Stop (Escape in the box stops too).
import { useLayoutEffect, useRef } from "preact/hooks";
import { streaming } from "../state.js";
import { Icon } from "../ui/icons.jsx";
import { enterSends } from "./actions.jsx";
import { composerFocus, draft, send, sending, stop } from "./session.js";

export function Composer({ maxChars }) {
  const input = useRef(null);
  const focusAsked = composerFocus.value;
  // At once (not after the next paint): the person may already be moving the focus elsewhere.
  useLayoutEffect(() => { if (focusAsked) input.current.focus(); }, [focusAsked]);
  // Through the CSSOM (allowed by the page's CSP, unlike a style attribute).
  useLayoutEffect(() => {
    const box = input.current;
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight, 240)}px`;
  }, [draft.value]);
  const on = streaming.value;
  return (
    <form id="composer" onSubmit={(event) => { event.preventDefault(); send(); }}>
      <label class="offscreen" for="composer-input">Message</label>
      <textarea ref={input} id="composer-input" rows="1" maxlength={maxChars} placeholder="Ask anything" value={draft.value}
        onInput={(event) => { draft.value = event.currentTarget.value; }}
        onKeyDown={(event) => {
          if (enterSends(event)) { event.preventDefault(); send(); }
          else if (event.key === "Escape" && streaming.value) stop();
        }} />
      <button id="send" type="submit" aria-label="Send message" title="Send" hidden={on} disabled={sending.value}><Icon name="send" /></button>
      <button id="stop" type="button" aria-label="Stop generating" title="Stop" hidden={!on} onClick={stop}><Icon name="stop" /></button>
    </form>
  );
}
