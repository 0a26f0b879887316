// The portal: configuration, sign-in on return from the provider, the hash router and the frame
// around each screen (account, space switcher, menu). Screens are modules loaded when first shown.
//
// Routes: #/activer, #/opposer (public); #/code-aidant (signed in, any space or none);
// #/<screen>[/…] on one's own space and #/proche/<patient_id>/<screen>[/…] on the space of a person
// one represents or helps (a caregiver sees only the screens of what they may do there).

import { all, configure, get } from "./api.js";
import { accessToken, completeSignIn, init, signIn, signOut } from "./auth.js";
import { errorBox, h, replace } from "./dom.js";
import { RELATIONSHIPS, label } from "./labels.js";

const SCREENS = {
  documents: { title: "Documents", module: "./screens/documents.js" },
  messages: { title: "Messagerie", module: "./screens/messages.js" },
  agenda: { title: "Agenda", module: "./screens/agenda.js" },
  profil: { title: "Profil médical", module: "./screens/profile.js" },
  acces: { title: "Accès au dossier", module: "./screens/access.js" },
  historique: { title: "Historique", module: "./screens/activity.js" },
  applications: { title: "Applications", module: "./screens/apps.js" },
  aidant: { title: "Aidant", module: "./screens/caregivers.js" },
  fermer: { title: "Fermer l’espace", module: "./screens/close.js" },
};
// A caregiver reads, adds and keeps the agenda; the patient's decisions are not theirs (docs/domain.md § Caregivers).
const HELPER_SCREENS = ["documents", "agenda", "profil", "historique", "aidant"];
const ACCEPT = { name: "code-aidant", title: "Accepter d’être aidant", module: "./screens/caregivers.js" };
const PUBLIC = {
  activer: { title: "Activer mon espace", module: "./screens/enrolment.js", view: "activate" },
  opposer: { title: "M’opposer à la création", module: "./screens/enrolment.js", view: "oppose" },
};

const main = document.getElementById("contenu");
let account = null; // {me, dependants} once signed in
let cleanups = [];
let current = 0;
let bootError = null;

function parse(hash) {
  const parts = hash.slice(2).split("/").filter(Boolean).map(decodeURIComponent);
  const spaceId = parts[0] === "proche" ? parts[1] : null;
  if (spaceId) parts.splice(0, 2);
  const [name = "", ...rest] = parts;
  return { spaceId, name, rest };
}

async function loadAccount() {
  let me = null;
  try {
    me = await get("/v1/me");
  } catch (error) {
    if (error.status !== 404) throw error; // 404: no space of one's own (a representative may have none)
  }
  let dependants = [];
  try {
    dependants = await all("/v1/me/dependants");
  } catch (error) {
    if (error.status === 401) throw error; // otherwise: this API manages no family, nothing to switch to
  }
  return { me, dependants };
}

function spaces() {
  const list = [];
  if (account.me) list.push({ patient_id: account.me.patient_id, name: "Mon espace", own: true, status: account.me.status });
  for (const d of account.dependants) {
    list.push({ patient_id: d.patient_id, name: `${d.given_names} ${d.family_name}`, own: false, status: d.status, relationship: d.relationship });
  }
  return list;
}

function screensOf(space) {
  const all = Object.entries(SCREENS);
  return space.relationship === "caregiver" ? all.filter(([name]) => HELPER_SCREENS.includes(name)) : all;
}

function hrefFor(space, screen, ...rest) {
  const path = [screen, ...rest].map(encodeURIComponent).join("/");
  return space.own ? `#/${path}` : `#/proche/${encodeURIComponent(space.patient_id)}/${path}`;
}

function renderFrame(space, screenName) {
  const who = account?.me ? `${account.me.given_names} ${account.me.family_name}` : null;
  replace(
    document.getElementById("compte"),
    accessToken()
      ? [who ? h("span", { class: "who" }, who) : null, h("button", { type: "button", class: "secondary", onclick: () => signOut() }, "Se déconnecter")]
      : h("button", { type: "button", class: "secondary", onclick: () => signIn("#/documents") }, "Se connecter"),
  );
  const switcher = document.getElementById("espaces");
  const list = account ? spaces() : [];
  replace(
    switcher,
    list.length > 1
      ? [h("p", { class: "label" }, "Espace affiché :"), h("ul", {}, list.map((s) => h("li", {}, h("a", {
        href: hrefFor(s, screenName || "documents"),
        "aria-current": space && s.patient_id === space.patient_id ? "true" : null,
      }, s.name, s.relationship ? h("span", { class: "visually-hidden" }, ` (${label(RELATIONSHIPS, s.relationship)})`) : null))))]
      : [],
  );
  switcher.hidden = list.length <= 1;
  const menu = document.getElementById("menu");
  replace(
    menu,
    space
      ? h("ul", {}, screensOf(space).map(([name, screen]) => h("li", {}, h("a", {
        href: hrefFor(space, name),
        "aria-current": name === screenName ? "page" : null,
      }, screen.title))))
      : [],
  );
  menu.hidden = !space;
}

function finish(title, seq) {
  if (seq !== current) return;
  main.setAttribute("aria-busy", "false");
  document.title = `${title} — Mon espace santé`;
  const heading = main.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: false });
  }
}

function welcome() {
  renderFrame(null, null);
  replace(
    main,
    h("h1", {}, "Bienvenue sur Mon espace santé"),
    bootError ? errorBox(bootError) : null,
    h("p", {}, "Vos documents de santé, vos échanges avec vos professionnels, votre agenda et votre profil médical, au même endroit et sous votre contrôle."),
    h("p", {}, h("button", { type: "button", onclick: () => signIn("#/documents") }, "Se connecter")),
    h("h2", {}, "Vous avez reçu un code provisoire ?"),
    h("ul", {}, h("li", {}, h("a", { href: "#/activer" }, "Activer mon espace")), h("li", {}, h("a", { href: "#/opposer" }, "Je ne souhaite pas de Mon espace santé"))),
  );
  bootError = null;
  return "Accueil";
}

async function show(seq) {
  const hash = location.hash || "#/";
  const { spaceId, name, rest } = parse(hash);
  if (PUBLIC[name]) {
    renderFrame(null, null);
    const screen = PUBLIC[name];
    const module = await import(screen.module);
    if (seq === current) module[screen.view](main);
    return screen.title;
  }
  if (!accessToken()) {
    if (name === "") return welcome();
    await signIn(hash);
    return "Connexion";
  }
  account = account || (await loadAccount());
  const list = spaces();
  if (name === ACCEPT.name) {
    renderFrame(null, null);
    const module = await import(ACCEPT.module);
    if (seq === current) module.accept(main, { title: ACCEPT.title, refreshAccount: async () => { account = await loadAccount(); } });
    return ACCEPT.title;
  }
  const space = list.find((s) => (spaceId ? s.patient_id === spaceId : s.own));
  const screen = SCREENS[name];
  if (!space && !spaceId && list.length) {
    location.replace(hrefFor(list[0], screen ? name : "documents")); // no space of one's own: a dependant's
    return "Documents";
  }
  if (!space) {
    renderFrame(null, null);
    replace(main, h("h1", {}, "Aucun espace"), h("p", {}, "Aucun espace Mon espace santé n’est associé à cette identité, ni à vous, ni à une personne que vous représentez."),
      h("p", {}, h("a", { href: `#/${ACCEPT.name}` }, "Vous avez reçu un code aidant ? Saisissez-le ici")));
    return "Aucun espace";
  }
  if (!screen || !screensOf(space).some(([shown]) => shown === name)) {
    location.replace(hrefFor(space, "documents"));
    return "Documents";
  }
  renderFrame(space, name);
  const module = await import(screen.module);
  if (seq !== current) return screen.title;
  const ctx = {
    patientId: space.patient_id,
    space,
    me: account.me,
    helper: space.relationship === "caregiver", // acts as the patient's caregiver: no decision buttons
    title: space.own ? screen.title : `${screen.title} — ${space.name}`,
    rest,
    href: (...path) => hrefFor(space, ...path),
    onLeave: (fn) => cleanups.push(fn),
    refreshAccount: async () => { account = await loadAccount(); },
  };
  replace(main, h("p", {}, "Chargement…"));
  await module.render(main, ctx);
  return ctx.title;
}

async function route() {
  const hash = location.hash || "#/";
  if (!hash.startsWith("#/")) return; // an in-page anchor (the skip link)
  current += 1;
  const seq = current;
  cleanups.forEach((fn) => fn());
  cleanups = [];
  main.setAttribute("aria-busy", "true"); // until the screen has its data
  try {
    finish(await show(seq), seq);
  } catch (error) {
    if (seq !== current) return;
    replace(main, h("h1", {}, "Une erreur est survenue"), errorBox(error));
    finish("Erreur", seq);
  }
}

async function boot() {
  const config = await (await fetch("config.json")).json();
  configure(config.api);
  init(config);
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  try {
    await completeSignIn();
  } catch (error) {
    bootError = error;
    location.replace("#/");
  }
  window.addEventListener("hashchange", route);
  await route();
}

boot();
