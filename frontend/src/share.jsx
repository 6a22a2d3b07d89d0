// Share a conversation as a read-only snapshot: create a link, copy it, revoke it.
import { signal } from "@preact/signals";
import { useState } from "preact/hooks";
import { allPages, api } from "./api.js";
import { t } from "./i18n.js";
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
      announce(t("share.revoked"));
      await reload();
    } catch (error) { say(error.message); }
  };
  return (
    <ul class="share-list" aria-label={t("share.links")}>
      {(shares ?? []).map((share) => (
        <li key={share.id}>
          <input type="text" readOnly value={share.url} aria-label={t("share.share_link")} onFocus={(e) => e.currentTarget.select()} />
          <button type="button" onClick={() => copyText(share.url)}>{t("share.copy_link")}</button>
          <button type="button" class="danger" onClick={() => revoke(share)}>{t("share.revoke_link")}</button>
        </li>
      ))}
      {shares && !shares.length ? <li class="muted">{t("share.no_link")}</li> : null}
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
      announce(t("share.created"));
    } catch (error) { say(error.message); }
    finally { setBusy(false); }
  };
  return <button type="button" class="primary" disabled={busy} onClick={create}>{t("share.create_link")}</button>;
}

export function openShareDialog(conversation) {
  const made = signal(0); // counts the links made here: the list loads again after each
  openDialog({
    title: () => t("share.title"),
    body: () => (
      <>
        <p class="muted">{t("share.explain")}</p>
        <Links conversation={conversation} made={made.value} />
      </>
    ),
    actions: () => [<CreateLink conversation={conversation} onCreated={() => { made.value += 1; }} />],
  });
}
