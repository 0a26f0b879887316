// Who may see the record: grants (with an end date), blocks, the treating doctor, and the two
// emergency choices, each apart: break-glass by any professional, and the SAMU's regulator doctors.

import { actionButton, announce, field, form, formatDateTime, h, localToUtc, replace, section, today } from "../dom.js";
import { del, get, put } from "../api.js";

function rppsInput() {
  return h("input", { name: "rpps", required: true, inputmode: "numeric", pattern: "[0-9 ]{11,14}", maxlength: 14, autocomplete: "off" });
}

const RPPS_HINT = "Les 11 chiffres du numéro RPPS du professionnel (sur sa carte ou son ordonnance).";

function table(caption, headings, rows) {
  return h("table", {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headings.map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows));
}

const CHOICES = [
  {
    name: "emergency",
    title: "Accès en urgence (bris de glace)",
    label: "Autoriser un professionnel à ouvrir mon dossier en cas d’urgence",
    saved: "Réglage de l’accès en urgence enregistré.",
    open: "Accès en urgence en cours :",
  },
  {
    name: "regulation",
    title: "Accès du SAMU (centre 15)",
    label: "Autoriser les médecins régulateurs du SAMU à consulter mon dossier pendant un appel d’urgence (une heure)",
    saved: "Réglage de l’accès du SAMU enregistré.",
    open: "Accès du SAMU en cours :",
  },
];

export async function render(main, ctx) {
  const path = `/v1/patients/${encodeURIComponent(ctx.patientId)}/access`;
  const areas = { grants: h("div"), blocked: h("div"), doctor: h("div"), emergency: h("div"), regulation: h("div") };

  async function refresh(message) {
    draw(await get(path));
    if (message) announce(message);
  }

  function draw(settings) {
    replace(areas.grants, settings.grants.length
      ? table("Professionnels autorisés", ["RPPS", "Depuis le", "Jusqu’au", "Action"], settings.grants.map((grant) => h("tr", {},
        h("td", {}, grant.rpps),
        h("td", {}, formatDateTime(grant.granted_at)),
        h("td", {}, grant.expires_at ? formatDateTime(grant.expires_at) : "Sans limite"),
        h("td", {}, actionButton(["Retirer", h("span", { class: "visually-hidden" }, ` l’accès du RPPS ${grant.rpps}`)], async () => {
          await del(`${path}/grants/${encodeURIComponent(grant.rpps)}`);
          await refresh("Accès retiré.");
        }, { class: "secondary" })))))
      : h("p", { class: "empty" }, "Aucun professionnel n’est autorisé pour le moment."));
    replace(areas.blocked, settings.blocked.length
      ? h("ul", { class: "plain" }, settings.blocked.map((block) => h("li", {},
        `RPPS ${block.rpps}, bloqué le ${formatDateTime(block.blocked_at)} `,
        actionButton(["Débloquer", h("span", { class: "visually-hidden" }, ` le RPPS ${block.rpps}`)], async () => {
          await del(`${path}/blocks/${encodeURIComponent(block.rpps)}`);
          await refresh("Professionnel débloqué.");
        }, { class: "secondary" }))))
      : h("p", { class: "empty" }, "Aucun professionnel bloqué."));
    replace(areas.doctor, settings.treating_doctor
      ? h("p", {}, `Votre médecin traitant : RPPS ${settings.treating_doctor.rpps} `, actionButton("Retirer le médecin traitant", async () => {
        await del(`${path}/treating-doctor`);
        await refresh("Médecin traitant retiré.");
      }, { class: "secondary" }))
      : h("p", { class: "empty" }, "Aucun médecin traitant déclaré."));
    for (const choice of CHOICES) replace(areas[choice.name], emergencyChoice(choice, settings));
  }

  // One emergency choice: its own form, saved alone (the other stays as it is), and its sessions open.
  function emergencyChoice({ name, title, label, saved, open }, settings) {
    const sessions = settings[`${name}_sessions`] || [];
    return [
      form({ class: "stack", "aria-label": title }, async (data) => {
        await put(`${path}/${name}`, { allowed: data.get("allowed") === "oui" });
        await refresh(saved);
      },
      h("div", { class: "check" },
        h("input", { type: "checkbox", id: `choix-${name}`, name: "allowed", value: "oui", checked: settings[`${name}_access_allowed`] }),
        h("label", { for: `choix-${name}` }, label)),
      h("button", { type: "submit", class: "secondary" }, "Enregistrer", h("span", { class: "visually-hidden" }, ` : ${title.toLowerCase()}`))),
      sessions.length ? h("p", {}, open) : null,
      sessions.length ? h("ul", {}, sessions.map((s) => h("li", {}, `RPPS ${s.rpps}, ouvert le ${formatDateTime(s.opened_at)}, jusqu’au ${formatDateTime(s.expires_at)}`))) : null,
    ];
  }

  // A form naming a professional by RPPS: `send(rpps, data)`, then the settings shown again.
  const rppsForm = (title, text, [button, kind], send, done, ...extra) => form({ class: "stack", "aria-label": title }, async (data, el) => {
    await send(data.get("rpps").replace(/\s+/g, ""), data);
    el.reset();
    await refresh(done);
  }, field(text, rppsInput(), RPPS_HINT), extra, h("button", { type: "submit", class: kind }, button));

  replace(
    main,
    h("h1", {}, ctx.title),
    h("p", {}, "Vous seul décidez des professionnels qui consultent votre dossier. Votre médecin traitant y a accès sans autorisation ; un professionnel bloqué ne peut ni le lire, ni y déposer, ni vous écrire."),
    section("Professionnels autorisés",
      areas.grants,
      h("h3", {}, "Autoriser un professionnel"),
      rppsForm("Autoriser un professionnel", "Numéro RPPS", ["Autoriser", null], (rpps, data) => {
        const until = data.get("until");
        return put(`${path}/grants/${encodeURIComponent(rpps)}`, until ? { expires_at: localToUtc(`${until}T23:59:59`) } : {});
      }, "Professionnel autorisé.",
      field("Jusqu’au (inclus)", h("input", { name: "until", type: "date", min: today() }), "Laissez vide pour une autorisation sans limite de durée."))),
    section("Professionnels bloqués",
      areas.blocked,
      rppsForm("Bloquer un professionnel", "Numéro RPPS à bloquer", ["Bloquer", "danger"], (rpps) => put(`${path}/blocks/${encodeURIComponent(rpps)}`), "Professionnel bloqué.")),
    section("Médecin traitant",
      areas.doctor,
      rppsForm("Déclarer le médecin traitant", "Numéro RPPS du médecin traitant", ["Déclarer", "secondary"], (rpps) => put(`${path}/treating-doctor`, { rpps }), "Médecin traitant déclaré.")),
    section("Accès en urgence",
      h("p", {}, "Deux choix séparés : refuser l’un ne refuse pas l’autre. Chaque accès est limité dans le temps, motivé, inscrit dans votre historique, et vous en êtes informé."),
      CHOICES.map((choice) => [h("h3", {}, choice.title), areas[choice.name]])),
  );
  await refresh();
}
