// Closing the space: professional access stops at once; the data is archived, or deleted now.

import { post } from "../api.js";
import { signOut } from "../auth.js";
import { form, h, replace } from "../dom.js";

export async function render(main, ctx) {
  const path = ctx.space.own ? "/v1/me/close" : `/v1/patients/${encodeURIComponent(ctx.patientId)}/close`;
  const done = h("div");
  replace(
    main,
    h("h1", {}, ctx.title),
    h("p", {}, "Fermer l’espace arrête aussitôt tout accès des professionnels. Les données sont archivées pendant 10 ans, comme le prévoit la réglementation, puis supprimées ; vous pouvez demander leur suppression immédiate."),
    form({ class: "stack", "aria-label": "Fermer l’espace" }, async (data, el) => {
      if (!window.confirm("Fermer définitivement cet espace ?")) return;
      await post(path, { delete_now: data.get("delete_now") === "oui" });
      el.remove();
      replace(done, h("div", { class: "success", role: "status" },
        h("p", {}, "L’espace est fermé."),
        ctx.space.own ? h("button", { type: "button", onclick: () => signOut() }, "Se déconnecter") : null));
      await ctx.refreshAccount();
    },
    h("div", { class: "check" }, h("input", { type: "checkbox", id: "suppression", name: "delete_now", value: "oui" }), h("label", { for: "suppression" }, "Supprimer les données immédiatement, sans archivage")),
    h("div", { class: "check" }, h("input", { type: "checkbox", id: "compris", name: "understood", required: true }), h("label", { for: "compris" }, "Je comprends que la fermeture est définitive")),
    h("button", { type: "submit", class: "danger" }, "Fermer l’espace")),
    done,
  );
}
