// The agenda: upcoming events, adding one, and the iCalendar feed.

import { apiUrl, blob, del, get, post, saveAs } from "../api.js";
import { actionButton, announce, field, form, formatDateTime, h, localToUtc, paged, replace, section, select } from "../dom.js";
import { AGENDA_KINDS, label, options } from "../labels.js";

export async function render(main, ctx) {
  const path = `/v1/patients/${encodeURIComponent(ctx.patientId)}/agenda`;
  const listArea = h("div");
  const event = (e) => {
    const item = h("li", { class: "card" },
      h("p", { class: "title" }, e.title),
      h("p", { class: "meta" }, `${label(AGENDA_KINDS, e.kind)} · ${formatDateTime(e.start)}${e.end ? ` → ${formatDateTime(e.end)}` : ""}`),
      e.location ? h("p", {}, `Lieu : ${e.location}`) : null,
      e.professional_name ? h("p", {}, `Avec : ${e.professional_name}`) : null,
      ctx.helper ? null : h("div", { class: "actions" }, actionButton(["Supprimer", h("span", { class: "visually-hidden" }, ` ${e.title}`)], async () => {
        if (!window.confirm(`Supprimer « ${e.title} » de l’agenda ?`)) return;
        await del(`${path}/${encodeURIComponent(e.event_id)}`);
        item.remove();
        announce("Événement supprimé.");
      }, { class: "danger" })));
    return item;
  };
  async function load() {
    const list = h("ul", { class: "cards" });
    const pages = paged(list, (cursor) => get(path, { cursor }), event, "Aucun événement à venir.");
    replace(listArea, list, pages.more);
    await pages.ready;
  }
  const feed = apiUrl(`${path}.ics`);
  replace(
    main,
    h("h1", {}, ctx.title),
    section("À venir", listArea),
    section("Ajouter un événement",
      form({ class: "stack", "aria-label": "Ajouter un événement" }, async (data, el) => {
        const body = { kind: data.get("kind"), title: data.get("title").trim(), start: localToUtc(data.get("start")) };
        for (const name of ["location", "professional_name"]) if (data.get(name).trim()) body[name] = data.get(name).trim();
        if (data.get("end")) body.end = localToUtc(data.get("end"));
        await post(path, body);
        el.reset();
        await load();
        announce("Événement ajouté à l’agenda.");
      },
      field("Type", select("kind", options(AGENDA_KINDS))),
      field("Intitulé", h("input", { name: "title", required: true, maxlength: 200 })),
      field("Début", h("input", { name: "start", type: "datetime-local", required: true })),
      field("Fin (facultatif)", h("input", { name: "end", type: "datetime-local" })),
      field("Lieu (facultatif)", h("input", { name: "location", maxlength: 300 })),
      field("Professionnel (facultatif)", h("input", { name: "professional_name", maxlength: 200 })),
      h("button", { type: "submit" }, "Ajouter"))),
    section("Dans votre calendrier",
      h("p", {}, "Adresse d’abonnement iCalendar de cet agenda. Votre application de calendrier doit s’y présenter avec votre connexion Mon espace santé : l’adresse ne contient aucun secret."),
      field("Lien d’abonnement iCalendar", h("input", { value: feed, readonly: true, class: "feed" })),
      h("p", {}, actionButton("Télécharger l’agenda (.ics)", async () => saveAs(await blob(`${path}.ics`), "agenda.ics"), { class: "secondary" }))),
  );
  await load();
}
