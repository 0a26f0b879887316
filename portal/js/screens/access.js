// Who may see the record: grants (with an end date), blocks, the treating doctor, and whether
// emergency access is allowed.

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

export async function render(main, ctx) {
  const path = `/v1/patients/${encodeURIComponent(ctx.patientId)}/access`;
  const areas = { grants: h("div"), blocked: h("div"), doctor: h("div"), emergency: h("div") };

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
    const sessions = settings.emergency_sessions || [];
    replace(areas.emergency,
      form({ class: "stack", "aria-label": "Accès en urgence" }, async (data) => {
        await put(`${path}/emergency`, { allowed: data.get("allowed") === "oui" });
        await refresh("Réglage de l’accès en urgence enregistré.");
      },
      h("div", { class: "check" },
        h("input", { type: "checkbox", id: "urgence", name: "allowed", value: "oui", checked: settings.emergency_access_allowed }),
        h("label", { for: "urgence" }, "Autoriser un professionnel à ouvrir mon dossier en cas d’urgence")),
      h("button", { type: "submit", class: "secondary" }, "Enregistrer")),
      sessions.length ? h("p", {}, "Accès en urgence en cours :") : null,
      sessions.length ? h("ul", {}, sessions.map((s) => h("li", {}, `RPPS ${s.rpps}, ouvert le ${formatDateTime(s.opened_at)}, jusqu’au ${formatDateTime(s.expires_at)}`))) : null);
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
      areas.emergency),
  );
  await refresh();
}
