// Connected apps: the State's catalogue by category, connecting one with the scopes chosen,
// and revoking a connection (effective at once).

import { all, del, post, publicGet } from "../api.js";
import { actionButton, announce, form, formatDateTime, h, replace, section, uid } from "../dom.js";
import { CATEGORIES, SCOPES, label } from "../labels.js";

async function catalogue() {
  return (await all("/v1/catalogue/apps", {}, publicGet)).filter((app) => app.status === "referenced");
}

export async function render(main, ctx) {
  const path = `/v1/patients/${encodeURIComponent(ctx.patientId)}/connections`;
  const connectedArea = h("div");
  const catalogueArea = h("div");
  const apps = await catalogue();
  const byId = new Map(apps.map((app) => [app.app_id, app]));

  async function refresh(message) {
    const connections = await all(path);
    replace(connectedArea, connections.length
      ? h("ul", { class: "cards" }, connections.map((c) => {
        const name = byId.get(c.app_id)?.name || c.app_id;
        return h("li", { class: "card" },
          h("p", { class: "title" }, name),
          h("p", { class: "meta" }, `Connectée le ${formatDateTime(c.created_at)}`),
          h("ul", { class: "scopes" }, c.scopes.map((scope) => h("li", {}, label(SCOPES, scope)))),
          h("div", { class: "actions" }, actionButton(["Révoquer", h("span", { class: "visually-hidden" }, ` ${name}`)], async () => {
            await del(`${path}/${encodeURIComponent(c.connection_id)}`);
            await refresh(`${name} n’a plus accès à votre espace.`);
          }, { class: "danger" })));
      }))
      : h("p", { class: "empty" }, "Aucune application connectée."));
    if (message) announce(message);
  }

  const categories = [...new Set(apps.map((app) => app.category))].sort((a, b) => label(CATEGORIES, a).localeCompare(label(CATEGORIES, b), "fr"));
  replace(catalogueArea, apps.length ? categories.map((category) => h("section", { class: "group" },
    h("h3", {}, label(CATEGORIES, category)),
    h("ul", { class: "cards" }, apps.filter((app) => app.category === category).map((app) => h("li", { class: "card" },
      h("p", { class: "title" }, app.name),
      h("p", { class: "meta" }, `Éditeur : ${app.publisher}`),
      h("p", {}, app.description),
      form({ class: "stack", "aria-label": `Connecter ${app.name}` }, async (data) => {
        const scopes = data.getAll("scopes");
        if (!scopes.length) throw new Error("Cochez au moins une autorisation.");
        await post(path, { app_id: app.app_id, scopes });
        await refresh(`${app.name} est connectée.`);
      },
      h("fieldset", {}, h("legend", {}, `Autorisations accordées à ${app.name}`), app.scopes.map((scope) => {
        const id = uid("portee");
        return h("div", { class: "check" }, h("input", { type: "checkbox", id, name: "scopes", value: scope, checked: true }), h("label", { for: id }, label(SCOPES, scope)));
      })),
      h("button", { type: "submit" }, "Connecter", h("span", { class: "visually-hidden" }, ` ${app.name}`))))))))
    : h("p", { class: "empty" }, "Le catalogue est vide pour le moment."));

  replace(
    main,
    h("h1", {}, ctx.title),
    section("Applications connectées", connectedArea),
    section("Catalogue des services référencés par l’État",
      h("p", {}, "Connectez une application et choisissez ce qu’elle peut faire. Vous pouvez révoquer l’accès à tout moment : il cesse aussitôt."),
      catalogueArea),
  );
  await refresh();
}
