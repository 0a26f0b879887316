// Activation of an invited space, or opposition to its creation, with the provisional code
// received by email or letter (public endpoints: no sign-in yet).

import { publicPost } from "../api.js";
import { signIn } from "../auth.js";
import { field, form, h, replace } from "../dom.js";

function screen(main, { title, intro, endpoint, button, done, other }) {
  const result = h("div");
  replace(
    main,
    h("h1", {}, title),
    h("p", {}, intro),
    form({ class: "stack", "aria-label": title }, async (data, el) => {
      await publicPost(endpoint, {
        ins: data.get("ins").replace(/\s+/g, "").toUpperCase(),
        birth_date: data.get("birth_date"),
        code: data.get("code").trim(),
      });
      el.remove();
      replace(result, h("div", { class: "success", role: "status" }, done));
    },
    field("INS (numéro de sécurité sociale)", h("input", { name: "ins", required: true, autocomplete: "off", maxlength: 21, spellcheck: "false" }), "15 caractères, sur votre carte Vitale ou votre attestation de droits."),
    field("Date de naissance", h("input", { name: "birth_date", type: "date", required: true, autocomplete: "bday" })),
    field("Code provisoire", h("input", { name: "code", required: true, autocomplete: "one-time-code", spellcheck: "false" }), "Il figure dans le courrier ou le courriel reçu (ligne « Code provisoire »)."),
    h("button", { type: "submit" }, button)),
    result,
    h("p", {}, other),
  );
}

export function activate(main) {
  screen(main, {
    title: "Activer mon espace",
    intro: "Activez votre espace avec le code provisoire reçu. Pour l’espace d’un enfant, saisissez l’INS, la date de naissance et le code de l’enfant.",
    endpoint: "/v1/enrolment/activate",
    button: "Activer",
    done: [h("p", {}, "Votre espace est activé."), h("button", { type: "button", onclick: () => signIn("#/documents") }, "Se connecter")],
    other: h("a", { href: "#/opposer" }, "Je ne souhaite pas de Mon espace santé"),
  });
}

export function oppose(main) {
  screen(main, {
    title: "M’opposer à la création de mon espace",
    intro: "Si vous ne souhaitez pas de Mon espace santé, indiquez-le avant la date limite de votre courrier. Vous pourrez changer d’avis plus tard.",
    endpoint: "/v1/enrolment/oppose",
    button: "Je m’oppose",
    done: h("p", {}, "Votre opposition est enregistrée : votre espace ne sera pas créé."),
    other: h("a", { href: "#/activer" }, "Activer mon espace plutôt"),
  });
}
