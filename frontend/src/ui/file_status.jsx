// A collector file item's extraction, in words: being read, ready (with its pages), or why it failed.
import { itemFileState, statusText } from "../files.js";

export function FileStatus({ item }) {
  const state = itemFileState(item);
  if (!state) return null;
  return (
    <span class={`file-status ${state.phase}`} data-phase={state.phase}>
      {state.phase === "processing" ? <span class="spinner" aria-hidden="true" /> : null} {statusText(state)}
    </span>
  );
}
