// Secure messaging: conversations opened by professionals, with unread counts; a thread, the
// reply with attachments, attachments downloaded.

import { all, base64Of, blob, get, post, saveAs } from "../api.js";
import { actionButton, announce, field, form, formatDateTime, formatSize, h, paged, replace, section } from "../dom.js";
import { actor } from "../labels.js";

const ACCEPTED = ["application/pdf", "image/jpeg", "image/png", "text/plain"];
const MAX_ATTACHMENTS = 5;

export async function render(main, ctx) {
  if (ctx.rest[0]) return thread(main, ctx, ctx.rest[0]);
  const list = h("ul", { class: "cards" });
  const pages = paged(list, async (cursor) => {
    const page = await get("/v1/conversations", { cursor });
    return { ...page, items: page.items.filter((c) => c.patient_id === ctx.patientId) };
  }, (c) => h("li", { class: "card" },
    h("p", { class: "title" }, h("a", { href: ctx.href("messages", c.conversation_id) }, c.subject)),
    h("p", { class: "meta" }, `${c.professional.name || `RPPS ${c.professional.rpps}`} · dernier message le ${formatDateTime(c.last_message_at)}`),
    c.unread ? h("p", { class: "badge unread" }, c.unread === 1 ? "1 message non lu" : `${c.unread} messages non lus`) : null),
  "Aucune conversation. Seuls les professionnels de santé peuvent ouvrir une conversation ; vous pouvez ensuite leur répondre.");
  replace(main, h("h1", {}, ctx.title), list, pages.more);
  await pages.ready;
}

function attachmentButton(conversationId, message, attachment) {
  const path = `/v1/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(message.message_id)}/attachments/${attachment.index}`;
  return actionButton(`Télécharger ${attachment.filename} (${formatSize(attachment.size)})`, async () => saveAs(await blob(path), attachment.filename), { class: "secondary" });
}

async function thread(main, ctx, conversationId) {
  const path = `/v1/conversations/${encodeURIComponent(conversationId)}/messages`;
  const conversation = (await all("/v1/conversations")).find((c) => c.conversation_id === conversationId);
  if (!conversation) throw new Error("Cette conversation est introuvable.");
  const professional = conversation.professional.name || `RPPS ${conversation.professional.rpps}`;
  const messages = h("ol", { class: "thread" });
  const renderMessage = (message) => {
    const mine = message.author.role !== "professional";
    return h("li", { class: mine ? "message mine" : "message" },
      h("article", { "aria-label": `Message du ${formatDateTime(message.sent_at)}` },
        h("p", { class: "meta" }, `${mine ? actor(message.author, ctx.me?.patient_id) : professional} · ${formatDateTime(message.sent_at)}`),
        h("p", { class: "body" }, message.body),
        message.attachments.length ? h("ul", { class: "attachments" }, message.attachments.map((a) => h("li", {}, attachmentButton(conversationId, message, a)))) : null));
  };
  async function load() {
    replace(messages);
    const pages = paged(messages, (cursor) => get(path, { cursor }), renderMessage, "Aucun message.");
    replace(threadArea, messages, pages.more);
    await pages.ready;
  }
  const threadArea = h("div");
  const files = h("input", { name: "pieces", type: "file", multiple: true, accept: ACCEPTED.join(",") });
  replace(
    main,
    h("p", {}, h("a", { href: ctx.href("messages") }, "← Toutes les conversations")),
    h("h1", {}, conversation.subject),
    h("p", { class: "meta" }, `Avec ${professional}`),
    threadArea,
    section("Répondre",
      form({ class: "stack", "aria-label": "Répondre" }, async (data, el) => {
        const chosen = [...files.files];
        if (chosen.length > MAX_ATTACHMENTS) throw new Error(`${MAX_ATTACHMENTS} pièces jointes au plus.`);
        const refused = chosen.find((f) => !ACCEPTED.includes(f.type));
        if (refused) throw new Error(`« ${refused.name} » n’est pas accepté : PDF, JPEG, PNG ou texte.`);
        const attachments = await Promise.all(chosen.map(async (f) => ({ filename: f.name, media_type: f.type, content_base64: await base64Of(f) })));
        await post(path, { body: data.get("body").trim(), attachments });
        el.reset();
        await load();
        announce("Message envoyé.");
      },
      field("Votre message", h("textarea", { name: "body", required: true, maxlength: 20000, rows: 5 })),
      field("Pièces jointes", files, "Jusqu’à 5 fichiers : PDF, JPEG, PNG ou texte, 4 Mo chacun au plus."),
      h("button", { type: "submit" }, "Envoyer"))),
  );
  await load();
}
