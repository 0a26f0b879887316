// The medical record's documents: the list by type, a document shown in the page, deposit from
// a file or the phone's camera, masking and deletion.

import { base64Of, blob, del, get, patch, post, saveAs } from "../api.js";
import { actionButton, announce, errorBox, field, form, formatDate, formatSize, h, paged, replace, section, select, today, uid } from "../dom.js";
import { DOCUMENT_TYPES, actor, label, options } from "../labels.js";

const MAX_BYTES = 4 * 1024 * 1024;
const ACCEPTED = ["application/pdf", "image/jpeg", "image/png", "text/plain"];
const EXTENSIONS = { "application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "text/plain": "txt" };
const PHOTO_SIDE = 2400; // a photo over the limit is scaled down to this many pixels on its long side

function base(ctx) {
  return `/v1/patients/${encodeURIComponent(ctx.patientId)}/documents`;
}

export async function render(main, ctx) {
  if (ctx.rest[0]) return viewer(main, ctx, ctx.rest[0]);
  const listArea = h("div");
  const typeFilter = select("type", [["", "Tous les types"], ...options(DOCUMENT_TYPES)]);
  const groups = new Map();
  const groupsArea = h("div", { class: "groups" });

  function groupFor(type) {
    if (!groups.has(type)) {
      const id = uid("type");
      const list = h("ul", { class: "cards" });
      const section = h("section", { class: "group", "aria-labelledby": id, "data-type": type }, h("h3", { id }, label(DOCUMENT_TYPES, type)), list);
      const order = Object.keys(DOCUMENT_TYPES);
      const after = [...groupsArea.children].find((other) => order.indexOf(other.dataset.type) > order.indexOf(type));
      groupsArea.insertBefore(section, after || null);
      groups.set(type, list);
    }
    return groups.get(type);
  }

  function card(doc) {
    const item = h("li", { class: "card", "data-document": doc.document_id });
    const redraw = (updated) => item.replaceWith(card(updated));
    replace(
      item,
      h("p", { class: "title" }, h("a", { href: ctx.href("documents", doc.document_id) }, doc.title)),
      h("p", { class: "meta" }, `${formatDate(doc.date)} · ${actor(doc.author, ctx.me?.patient_id)} · ${formatSize(doc.size)}`),
      doc.masked ? h("p", { class: "badge" }, "Masqué aux professionnels") : null,
      ctx.helper ? null : h("div", { class: "actions" },
        actionButton([doc.masked ? "Démasquer" : "Masquer", h("span", { class: "visually-hidden" }, ` ${doc.title}`)], async () => {
          const updated = await patch(`${base(ctx)}/${encodeURIComponent(doc.document_id)}`, { masked: !doc.masked });
          redraw(updated);
          announce(updated.masked ? "Document masqué aux professionnels." : "Document démasqué.");
        }, { class: "secondary" }),
        actionButton(["Supprimer", h("span", { class: "visually-hidden" }, ` ${doc.title}`)], async () => {
          if (!window.confirm(`Supprimer définitivement « ${doc.title} » ?`)) return;
          await del(`${base(ctx)}/${encodeURIComponent(doc.document_id)}`);
          item.remove();
          announce("Document supprimé.");
        }, { class: "danger" })),
    );
    return item;
  }

  async function load() {
    groups.clear();
    replace(groupsArea);
    const list = paged(groupsArea, (cursor) => get(base(ctx), { type: typeFilter.value, cursor }), (doc) => {
      groupFor(doc.type).append(card(doc));
    }, "Aucun document pour le moment.");
    replace(listArea, groupsArea, list.more);
    await list.ready;
  }
  typeFilter.addEventListener("change", () => load().catch((error) => replace(listArea, errorBox(error))));

  replace(
    main,
    h("h1", {}, ctx.title),
    section("Les documents",
      field("Type de document", typeFilter),
      listArea),
    section("Ajouter un document",
      depositForm(ctx, (doc) => {
        if (!typeFilter.value || typeFilter.value === doc.type) {
          if (!groupsArea.isConnected) replace(listArea, groupsArea); // the list was empty
          groupFor(doc.type).prepend(card(doc));
        }
      })),
  );
  await load();
}

function depositForm(ctx, added) {
  const file = h("input", { name: "fichier", type: "file", accept: ACCEPTED.join(",") });
  const photo = h("input", { name: "photo", type: "file", accept: "image/*", capture: "environment" });
  return form({ class: "stack", "aria-label": "Ajouter un document" }, async (data, el) => {
    const chosen = photo.files[0] || file.files[0];
    if (!chosen) throw new Error("Choisissez un fichier ou prenez une photo.");
    const content = await acceptable(chosen);
    const doc = await post(base(ctx), {
      type: data.get("type"),
      title: data.get("title").trim(),
      date: data.get("date"),
      media_type: content.type,
      content_base64: await base64Of(content),
    });
    el.reset();
    added(doc);
    announce(`Document « ${doc.title} » déposé.`);
  },
  field("Titre", h("input", { name: "title", required: true, maxlength: 200 })),
  field("Type", select("type", options(DOCUMENT_TYPES), { selected: "other" })),
  field("Date du document", h("input", { name: "date", type: "date", required: true, max: today(), value: today() })),
  field("Fichier", file, "PDF, JPEG, PNG ou texte, 4 Mo au plus."),
  field("Ou prendre une photo", photo, "Sur un téléphone, ouvre l’appareil photo."),
  h("button", { type: "submit" }, "Déposer"));
}

// The file as the API accepts it: a photo in another format, or too large, becomes a JPEG.
async function acceptable(file) {
  if (ACCEPTED.includes(file.type) && file.size <= MAX_BYTES) return file;
  if (!file.type.startsWith("image/")) {
    throw new Error(file.size > MAX_BYTES ? "Le fichier dépasse 4 Mo." : "Ce type de fichier n’est pas accepté : PDF, JPEG, PNG ou texte.");
  }
  let image;
  try {
    image = await createImageBitmap(file);
  } catch {
    throw new Error("Cette image ne peut pas être lue : enregistrez-la en JPEG ou PNG.");
  }
  const scale = Math.min(1, PHOTO_SIDE / Math.max(image.width, image.height));
  const canvas = Object.assign(document.createElement("canvas"), { width: Math.round(image.width * scale), height: Math.round(image.height * scale) });
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  const jpeg = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  if (!jpeg || jpeg.size > MAX_BYTES) throw new Error("La photo reste au-delà de 4 Mo : réduisez sa taille.");
  return jpeg;
}

async function viewer(main, ctx, documentId) {
  const path = `${base(ctx)}/${encodeURIComponent(documentId)}`;
  const doc = await get(path);
  const content = await blob(`${path}/content`);
  const url = URL.createObjectURL(content);
  ctx.onLeave(() => URL.revokeObjectURL(url));
  let shown;
  if (doc.media_type.startsWith("image/")) shown = h("img", { src: url, alt: `Aperçu du document « ${doc.title} »`, class: "preview" });
  else if (doc.media_type === "application/pdf") shown = h("iframe", { src: url, title: `Document PDF « ${doc.title} »`, class: "preview pdf" });
  else shown = h("pre", { class: "preview text", tabindex: 0 }, await content.text());
  const filename = `${doc.title.replace(/[\\/:*?"<>|\s]+/g, "_").slice(0, 80)}.${EXTENSIONS[doc.media_type] || "bin"}`;
  replace(
    main,
    h("p", {}, h("a", { href: ctx.href("documents") }, "← Retour aux documents")),
    h("h1", {}, doc.title),
    h("p", { class: "meta" }, `${label(DOCUMENT_TYPES, doc.type)} · ${formatDate(doc.date)} · ${actor(doc.author, ctx.me?.patient_id)} · ${formatSize(doc.size)}`),
    doc.masked ? h("p", { class: "badge" }, "Masqué aux professionnels") : null,
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => saveAs(content, filename) }, "Télécharger")),
    shown,
  );
}
