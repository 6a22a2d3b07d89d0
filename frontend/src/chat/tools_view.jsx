// What a reply's tools did, as shown in the log: each call at the place of the reply where it was
// made (its name, its state; collapsed, opened to its arguments and its result, always as text),
// and the reply's notices under it (a tool server that was down, the round limit reached...).
import { useState } from "preact/hooks";
import { t } from "../i18n.js";
import { callFailed, callName, callStatus, durationWords, prettyArguments, resultShown, statusWords } from "../tools.js";
import { Icon } from "../ui/icons.jsx";

function ToolCall({ call: given, live }) {
  const [open, setOpen] = useState(false);
  const call = { ...given, status: callStatus(given, live) };
  const running = call.status === "running";
  const name = callName(call);
  const status = statusWords(call.status);
  const duration = running ? "" : durationWords(call.duration_ms);
  const result = resultShown(call);
  return (
    <div class={`tool-call${callFailed(call.status) ? " failed" : ""}`} data-status={call.status}>
      <button type="button" class="tool-call-head" aria-expanded={String(open)}
        aria-label={t("tools.call_label", { name, status })} onClick={() => setOpen(!open)}>
        <Icon name="tool" />
        <span class="tool-name">{name}</span>
        <span class="tool-status">{running ? <span class="spinner" aria-hidden="true" /> : null}{status}</span>
        {duration ? <span class="tool-duration">{duration}</span> : null}
        <span class="tool-chevron" aria-hidden="true"><Icon name="next" /></span>
      </button>
      {open ? (
        <div class="tool-call-body">
          <h4>{t("tools.arguments")}</h4>
          <pre class="tool-arguments" tabIndex={0}>{prettyArguments(call.arguments)}</pre>
          {call.error ? <p class="tool-error">{t("tools.error", { error: call.error })}</p> : null}
          {result === "text" ? <>
            <h4>{t("tools.result")}</h4>
            <pre class="tool-result" tabIndex={0}>{call.result || t("tools.result_empty")}</pre>
            {call.truncated ? <p class="muted">{t("tools.truncated")}</p> : null}
          </> : null}
          {result === "hidden" ? <p class="muted">{t("tools.result_hidden")}</p> : null}
        </div>
      ) : null}
    </div>
  );
}

// `live`: the reply is still being written (a call may still be running).
export function ToolCalls({ calls, live }) {
  return (
    <ul class="tool-calls" aria-label={t("tools.calls")}>
      {calls.map((call) => <li key={call.id}><ToolCall call={call} live={live} /></li>)}
    </ul>
  );
}

export function ReplyNotices({ notices }) {
  if (!notices?.length) return null;
  return (
    <ul class="reply-notices" aria-label={t("tools.notices")}>
      {notices.map((notice) => <li key={`${notice.code}:${notice.message}`} data-code={notice.code}>{notice.message}</li>)}
    </ul>
  );
}
