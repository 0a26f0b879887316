// Activation of an invited space, or opposition to its creation, with the provisional code
// received by email or letter (public endpoints: no sign-in yet).

import { publicPost } from "../api.js";
import { signIn } from "../auth.js";
import { field, form, h, replace } from "../dom.js";

function identityFields() {
  return [
    field("INS (numéro de sécurité sociale)", h("input", { name: "ins", required: true, autocomplete: "off", maxlength: 21, spellcheck: "false" }), "15 caractères, sur votre carte Vitale ou votre attestation de droits."),
    field("Date de naissance", h("input", { name: "birth_date", type: "date", required: true, autocomplete: "bday" })),
    field("Code provisoire", h("input", { name: "code", required: true, autocomplete: "one-time-code", spellcheck: "false" }), "Il figure dans le courrier ou le courriel reçu (ligne « Code provisoire »)."),
  ];
}

function identity(data) {
  return {
    ins: data.get("ins").replace(/\s+/g, "").toUpperCase(),
    birth_date: data.get("birth_date"),
    code: data.get("code").trim(),
  };
}

export function activate(main) {
  const result = h("div");
  replace(
    main,
    h("h1", {}, "Activer mon espace"),
    h("p", {}, "Activez votre espace avec le code provisoire reçu. Pour l’espace d’un enfant, saisissez l’INS, la date de naissance et le code de l’enfant."),
    form({ class: "stack", "aria-label": "Activation" }, async (data, el) => {
      await publicPost("/v1/enrolment/activate", identity(data));
      el.remove();
      replace(result, h("div", { class: "success", role: "status" }, h("p", {}, "Votre espace est activé."), h("button", { type: "button", onclick: () => signIn("#/documents") }, "Se connecter")));
    }, identityFields(), h("button", { type: "submit" }, "Activer")),
    result,
    h("p", {}, h("a", { href: "#/opposer" }, "Je ne souhaite pas de Mon espace santé")),
  );
}

export function oppose(main) {
  const result = h("div");
  replace(
    main,
    h("h1", {}, "M’opposer à la création de mon espace"),
    h("p", {}, "Si vous ne souhaitez pas de Mon espace santé, indiquez-le avant la date limite de votre courrier. Vous pourrez changer d’avis plus tard."),
    form({ class: "stack", "aria-label": "Opposition" }, async (data, el) => {
      await publicPost("/v1/enrolment/oppose", identity(data));
      el.remove();
      replace(result, h("div", { class: "success", role: "status" }, h("p", {}, "Votre opposition est enregistrée : votre espace ne sera pas créé.")));
    }, identityFields(), h("button", { type: "submit" }, "Je m’oppose")),
    result,
    h("p", {}, h("a", { href: "#/activer" }, "Activer mon espace plutôt")),
  );
}
