// Share a conversation as a read-only snapshot: create a link, copy it, revoke it.
import { signal } from "@preact/signals";
import { useState } from "preact/hooks";
import { allPages, api } from "./api.js";
import { openDialog } from "./ui/dialogs.jsx";
import { useLoad } from "./ui/load.js";
import { announce, copyText, say } from "./ui/notices.js";

// The links of one conversation, loaded again when `made` changes.
function Links({ conversation, made }) {
  const { data: shares, reload } = useLoad(async () => {
    const all = await allPages("/api/v1/shares?page_size=100");
    return all.filter((share) => share.source_conversation_id === conversation.id);
  }, [made]);
  const revoke = async (share) => {
    try {
      await api(`/api/v1/shares/${share.id}`, { method: "DELETE" });
      announce("Link revoked");
      await reload();
    } catch (error) { say(error.message); }
  };
  return (
    <ul class="share-list" aria-label="Links to this conversation">
      {(shares ?? []).map((share) => (
        <li key={share.id}>
          <input type="text" readOnly value={share.url} aria-label="Share link" onFocus={(e) => e.currentTarget.select()} />
          <button type="button" onClick={() => copyText(share.url)}>Copy link</button>
          <button type="button" class="danger" onClick={() => revoke(share)}>Revoke link</button>
        </li>
      ))}
      {shares && !shares.length ? <li class="muted">No link yet.</li> : null}
    </ul>
  );
}

function CreateLink({ conversation, onCreated }) {
  const [busy, setBusy] = useState(false);
  const create = async () => {
    setBusy(true);
    try {
      const share = await api("/api/v1/shares", { method: "POST", body: { conversation_id: conversation.id } });
      onCreated(share);
      await copyText(share.url);
      announce("Link created and copied");
    } catch (error) { say(error.message); }
    finally { setBusy(false); }
  };
  return <button type="button" class="primary" disabled={busy} onClick={create}>Create link</button>;
}

export function openShareDialog(conversation) {
  const made = signal(0); // counts the links made here: the list loads again after each
  openDialog({
    title: "Share conversation",
    body: () => (
      <>
        <p class="muted">Anyone with a link sees the conversation as it is when the link is made; later messages are not shared.</p>
        <Links conversation={conversation} made={made.value} />
      </>
    ),
    actions: () => [<CreateLink conversation={conversation} onCreated={() => { made.value += 1; }} />],
  });
}
