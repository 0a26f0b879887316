// The space's caregiver (proche aidant): the adult invites one person and ends it at any time;
// the caregiver sees whom they help and may stop. `accept` is the signed-in person typing the
// code of the invitation they received by email (their own login, no space needed).

import { del, get, post } from "../api.js";
import { actionButton, announce, field, form, formatDateTime, h, replace, section } from "../dom.js";
import { CAREGIVER_STATUSES, label } from "../labels.js";

const ACCEPT_HREF = "#/code-aidant";

function describe(caregiver) {
  const since = caregiver.accepted_at ? `aidant depuis le ${formatDateTime(caregiver.accepted_at)}` : `invité le ${formatDateTime(caregiver.invited_at)}`;
  return `${caregiver.given_names} ${caregiver.family_name} — ${label(CAREGIVER_STATUSES, caregiver.status)}, ${since}`;
}

export async function render(main, ctx) {
  const path = `/v1/patients/${encodeURIComponent(ctx.patientId)}/caregivers`;
  const area = h("div");

  async function refresh(message) {
    const { items } = await get(path);
    draw(items);
    if (message) announce(message);
  }

  function draw(items) {
    if (ctx.helper) {
      replace(area, items.map((caregiver) => h("div", {},
        h("p", {}, `Vous aidez ${ctx.space.name} depuis le ${formatDateTime(caregiver.accepted_at)}.`),
        actionButton("Ne plus être aidant", async () => {
          if (!window.confirm(`Ne plus aider ${ctx.space.name} ? Vous n’aurez plus accès à son espace.`)) return;
          await del(`${path}/${encodeURIComponent(caregiver.caregiver_id)}`);
          await ctx.refreshAccount();
          replace(area, h("p", { class: "success", role: "status" }, `Vous n’êtes plus l’aidant de ${ctx.space.name}.`));
        }, { class: "danger" }))));
      return;
    }
    replace(area, items.length
      ? h("ul", { class: "plain" }, items.map((caregiver) => h("li", {},
        h("span", {}, describe(caregiver)), " ",
        actionButton([caregiver.status === "invited" ? "Annuler l’invitation" : "Mettre fin", h("span", { class: "visually-hidden" }, ` de ${caregiver.given_names} ${caregiver.family_name}`)], async () => {
          if (!window.confirm(`Mettre fin au rôle d’aidant de ${caregiver.given_names} ${caregiver.family_name} ?`)) return;
          await del(`${path}/${encodeURIComponent(caregiver.caregiver_id)}`);
          await refresh("Le rôle d’aidant a pris fin.");
        }, { class: "danger" }))))
      : h("p", { class: "empty" }, "Aucun aidant pour le moment."));
  }

  if (ctx.helper) {
    replace(main, h("h1", {}, ctx.title),
      h("p", {}, "En tant qu’aidant, vous consultez ce que la personne voit, vous ajoutez des documents et des éléments à son profil, et vous tenez son agenda. Les décisions (masquer, supprimer, autoriser un professionnel, fermer l’espace) restent les siennes."),
      area);
    await refresh();
    return;
  }
  replace(
    main,
    h("h1", {}, ctx.title),
    h("p", {}, "Vous pouvez désigner un proche aidant : il se connecte avec son propre compte pour vous aider à tenir votre dossier (consulter, ajouter des documents, tenir votre agenda), sans jamais décider à votre place. Vous y mettez fin quand vous le souhaitez."),
    section("Votre aidant", area),
    section("Inviter un aidant",
      form({ class: "stack", "aria-label": "Inviter un aidant" }, async (data, el) => {
        await post(path, {
          ins: data.get("ins").replace(/\s+/g, "").toUpperCase(),
          birth_date: data.get("birth_date"),
          family_name: data.get("family_name").trim(),
          given_names: data.get("given_names").trim(),
          email: data.get("email").trim(),
        });
        el.reset();
        await refresh("Invitation envoyée : votre aidant a reçu un code par courriel.");
      },
      field("Nom de famille", h("input", { name: "family_name", required: true, maxlength: 200, autocomplete: "off" })),
      field("Prénoms", h("input", { name: "given_names", required: true, maxlength: 200, autocomplete: "off" })),
      field("INS de l’aidant", h("input", { name: "ins", required: true, autocomplete: "off", maxlength: 21, spellcheck: "false" }), "15 caractères, sur sa carte Vitale ou son attestation de droits."),
      field("Date de naissance de l’aidant", h("input", { name: "birth_date", type: "date", required: true, autocomplete: "off" })),
      field("Courriel de l’aidant", h("input", { name: "email", type: "email", required: true, maxlength: 254, autocomplete: "off" }), "Il y recevra un code aidant, valable 7 jours."),
      h("button", { type: "submit" }, "Inviter"))),
    section("Vous aidez un proche ?", h("p", {}, h("a", { href: ACCEPT_HREF }, "Saisir un code aidant reçu par courriel"))),
  );
  await refresh();
}

export function accept(main, ctx) {
  const result = h("div");
  replace(
    main,
    h("h1", {}, ctx.title),
    h("p", {}, "Une personne vous a désigné comme aidant : saisissez le code aidant reçu par courriel. Vous verrez ensuite son espace dans la liste de vos espaces."),
    form({ class: "stack", "aria-label": "Accepter d’être aidant" }, async (data, el) => {
      const accepted = await post("/v1/caregivers/accept", { code: data.get("code").trim() });
      el.remove();
      await ctx.refreshAccount();
      replace(result, h("div", { class: "success", role: "status" },
        h("p", {}, "Vous êtes désormais aidant."),
        h("p", {}, h("a", { href: `#/proche/${encodeURIComponent(accepted.patient_id)}/documents` }, "Aller à l’espace de la personne aidée"))));
    },
    field("Code aidant", h("input", { name: "code", required: true, autocomplete: "one-time-code", spellcheck: "false" }), "Il figure dans le courriel reçu (ligne « Code aidant »)."),
    h("button", { type: "submit" }, "Accepter")),
    result,
  );
}
