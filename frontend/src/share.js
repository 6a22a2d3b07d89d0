// Share a conversation as a read-only snapshot: create a link, copy it, revoke it.
import { allPages, api } from "./api.js";
import { announce, copyText, h, openDialog, say } from "./dom.js";

export async function openShareDialog(conversation) {
  const list = h("ul", { class: "share-list", "aria-label": "Links to this conversation" });
  const note = h("p", { class: "muted" },
    "Anyone with a link sees the conversation as it is when the link is made; later messages are not shared.");
  const create = h("button", { type: "button", class: "primary" }, "Create link");

  const show = (shares) => {
    list.replaceChildren(...shares.map((share) => {
      const field = h("input", { type: "text", readonly: true, value: share.url, "aria-label": "Share link",
        onfocus: (e) => e.target.select() });
      return h("li", {},
        field,
        h("button", { type: "button", onclick: () => copyText(share.url) }, "Copy link"),
        h("button", { type: "button", class: "danger", onclick: async () => {
          try {
            await api(`/api/v1/shares/${share.id}`, { method: "DELETE" });
            announce("Link revoked");
            await refresh();
          } catch (error) { say(error.message); }
        } }, "Revoke link"));
    }));
    if (!shares.length) list.append(h("li", { class: "muted" }, "No link yet."));
  };
  const refresh = async () => {
    const shares = await allPages("/api/v1/shares?page_size=100");
    show(shares.filter((share) => share.source_conversation_id === conversation.id));
  };
  create.addEventListener("click", async () => {
    create.disabled = true;
    try {
      const share = await api("/api/v1/shares", { method: "POST", body: { conversation_id: conversation.id } });
      await refresh();
      await copyText(share.url);
      announce("Link created and copied");
    } catch (error) { say(error.message); }
    finally { create.disabled = false; }
  });
  openDialog({ title: "Share conversation", body: [note, list], actions: [create] });
  try { await refresh(); } catch (error) { say(error.message); }
}
