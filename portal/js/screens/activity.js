// The activity history of the space, newest first, and the check of its hash chain.

import { get } from "../api.js";
import { formatDateTime, h, paged, replace } from "../dom.js";
import { ACTIONS, actor, label } from "../labels.js";

export async function render(main, ctx) {
  const path = `/v1/patients/${encodeURIComponent(ctx.patientId)}/activity`;
  const rows = h("tbody");
  const table = h("table", {},
    h("caption", { class: "visually-hidden" }, "Historique des actions, la plus récente en premier"),
    h("thead", {}, h("tr", {}, ["Date", "Action", "Par", "Élément"].map((title) => h("th", { scope: "col" }, title)))),
    rows);
  const list = paged(rows, (cursor) => get(path, { cursor }), (event) => h("tr", {},
    h("td", {}, h("time", { datetime: event.at }, formatDateTime(event.at))),
    h("td", {}, label(ACTIONS, event.action)),
    h("td", {}, actor(event.actor, ctx.me?.patient_id)),
    h("td", { class: "resource" }, event.resource || "—")), "Aucune action enregistrée.", table);
  const check = h("div", { class: "verification" }, h("p", {}, "Vérification de l’historique…"));
  replace(
    main,
    h("h1", {}, ctx.title),
    h("p", {}, "Chaque action sur votre espace est enregistrée : consultation, dépôt, masquage, autorisation, accès en urgence, inscription."),
    check,
    h("div", { class: "scroll" }, table),
    list.more,
  );
  const [verdict] = await Promise.all([get(`${path}/verify`), list.ready]);
  replace(check, verdict.valid
    ? h("p", { class: "success", role: "status" }, `Historique vérifié : ses ${verdict.events} événements sont intacts (chaîne d’empreintes contrôlée).`)
    : h("p", { class: "error", role: "alert" }, `Attention : l’historique ne passe pas la vérification (${verdict.events} événements). Signalez-le à l’assistance.`));
}
