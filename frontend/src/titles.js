// A title cut to fit: at the last space that fits, so no word is cut in two (Korean words too: its
// words are spaced); one long word (or text written without spaces) is cut hard and ends with "…".
// Punctuation left dangling at a cut is dropped. The server's rule (core/titles.py cut_at_word).
const DANGLING = /[\s,.;:\-·、，。；：…]+$/u;

export function cutAtWord(text, max) {
  const line = String(text ?? "").split(/\s+/u).filter(Boolean).join(" ");
  const chars = [...line]; // code points, as the server counts them
  if (chars.length <= max) return line;
  const head = chars.slice(0, max + 1).join("");
  const space = head.lastIndexOf(" ");
  if (space > 0) return head.slice(0, space).replace(DANGLING, "");
  return chars.slice(0, Math.max(max - 1, 0)).join("").replace(DANGLING, "") + "…";
}
