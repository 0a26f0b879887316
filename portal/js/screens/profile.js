// The health profile: allergies, treatments, vaccinations, conditions, the people to call in an
// emergency and the trusted person (one at most), and measurements with their chart over time
// (inline SVG, with the values as a table beside it).

import { all, del, get, post } from "../api.js";
import { actionButton, announce, errorBox, field, form, formatDate, formatDateTime, h, localToUtc, nowLocal, replace, s, section, select, today, uid } from "../dom.js";
import { CONDITION_STATUSES, MEASUREMENTS, SEVERITIES, UNITS, label, measurementValue, options } from "../labels.js";

const optional = (name, text, attrs = {}) => field(text, h("input", { name, ...attrs }));
const choice = (name, text, table) => field(text, select(name, [["", "Non précisé"], ...options(table)]));

const SECTIONS = {
  allergies: {
    title: "Allergies",
    describe: (e) => [e.substance, e.reaction && `réaction : ${e.reaction}`, e.severity && `gravité : ${label(SEVERITIES, e.severity)}`],
    fields: () => [optional("substance", "Substance", { required: true, maxlength: 200 }), optional("reaction", "Réaction (facultatif)", { maxlength: 500 }), choice("severity", "Gravité", SEVERITIES)],
  },
  treatments: {
    title: "Traitements",
    describe: (e) => [e.medication, e.dosage, e.start_date && `depuis le ${formatDate(e.start_date)}`, e.end_date && `jusqu’au ${formatDate(e.end_date)}`],
    fields: () => [optional("medication", "Médicament", { required: true, maxlength: 200 }), optional("dosage", "Posologie (facultatif)", { maxlength: 500 }), optional("start_date", "Début (facultatif)", { type: "date" }), optional("end_date", "Fin (facultatif)", { type: "date" })],
  },
  vaccinations: {
    title: "Vaccinations",
    describe: (e) => [e.vaccine, `le ${formatDate(e.date)}`, e.lot && `lot ${e.lot}`],
    fields: () => [optional("vaccine", "Vaccin", { required: true, maxlength: 200 }), optional("date", "Date", { type: "date", required: true, max: today() }), optional("lot", "Numéro de lot (facultatif)", { maxlength: 100 })],
  },
  conditions: {
    title: "Antécédents et maladies",
    describe: (e) => [e.label, e.since && `depuis le ${formatDate(e.since)}`, e.status && label(CONDITION_STATUSES, e.status)],
    fields: () => [optional("label", "Maladie ou antécédent", { required: true, maxlength: 200 }), optional("since", "Depuis (facultatif)", { type: "date", max: today() }), choice("status", "État", CONDITION_STATUSES)],
  },
  emergency_contacts: {
    title: "Personnes à prévenir en cas d’urgence",
    describe: (e) => [e.name, e.relationship, e.phone],
    fields: () => [optional("name", "Nom", { required: true, maxlength: 200, autocomplete: "off" }), optional("relationship", "Lien (conjoint, fille, voisin…)", { required: true, maxlength: 100 }), optional("phone", "Téléphone", { type: "tel", required: true, autocomplete: "off" })],
  },
  trusted_person: {
    title: "Personne de confiance",
    single: true, // one at most: the form shows while none is named
    describe: (e) => [e.name, e.phone, e.email],
    fields: () => [optional("name", "Nom de la personne de confiance", { required: true, maxlength: 200, autocomplete: "off" }), optional("phone", "Téléphone (facultatif)", { type: "tel", autocomplete: "off" }), optional("email", "Adresse e-mail (facultatif)", { type: "email", autocomplete: "off" })],
  },
};

export async function render(main, ctx) {
  const base = `/v1/patients/${encodeURIComponent(ctx.patientId)}/profile`;
  const areas = Object.fromEntries([...Object.keys(SECTIONS), "measurements"].map((name) => [name, h("div")]));
  const chartArea = h("div", { class: "chart-area" });
  const chartKind = select("kind", options(MEASUREMENTS));

  function entries(kind, items, describe) {
    if (!items.length) return h("p", { class: "empty" }, "Rien d’enregistré.");
    return h("ul", { class: "plain entries" }, items.map((entry) => {
      const text = describe(entry).filter(Boolean).join(" · ");
      return h("li", {}, h("span", {}, text), " ", ctx.helper ? null : actionButton(["Supprimer", h("span", { class: "visually-hidden" }, ` ${text}`)], async () => {
        await del(`${base}/${kind}/${encodeURIComponent(entry.entry_id)}`);
        await refresh("Élément supprimé.");
      }, { class: "secondary small" }));
    }));
  }

  async function refresh(message) {
    const profile = await get(base);
    for (const [name, spec] of Object.entries(SECTIONS)) {
      const items = spec.single ? [profile[name]].filter(Boolean) : profile[name] || [];
      replace(areas[name], entries(name, items, spec.describe));
      if (spec.single) adding[name].hidden = items.length > 0;
    }
    replace(areas.measurements, entries("measurements", profile.measurements, (m) => [`${MEASUREMENTS[m.kind]?.label || m.kind} : ${measurementValue(m)}`, `le ${formatDateTime(m.measured_at)}`]));
    await drawChart();
    if (message) announce(message);
  }

  async function drawChart() {
    const series = await all(`${base}/measurements`, { kind: chartKind.value });
    replace(chartArea, chart(chartKind.value, series));
  }
  chartKind.addEventListener("change", () => drawChart().catch((error) => replace(chartArea, errorBox(error))));

  const adding = {};
  const sectionForms = Object.entries(SECTIONS).map(([name, spec]) => section(spec.title,
    areas[name],
    adding[name] = h("details", {}, h("summary", {}, `Ajouter : ${spec.title.toLowerCase()}`),
      form({ class: "stack", "aria-label": `Ajouter : ${spec.title}` }, async (data, el) => {
        const body = {};
        for (const [key, value] of data.entries()) if (String(value).trim()) body[key] = String(value).trim();
        await post(`${base}/${name}`, body);
        el.reset();
        await refresh("Élément ajouté.");
      }, spec.fields(), h("button", { type: "submit" }, "Ajouter")))));

  replace(
    main,
    h("h1", {}, ctx.title),
    section("Mesures",
      h("h3", {}, "Dernières mesures"),
      areas.measurements,
      h("h3", {}, "Évolution"),
      field("Mesure affichée", chartKind),
      chartArea,
      h("details", {}, h("summary", {}, "Ajouter une mesure"), measurementForm(base, () => refresh("Mesure ajoutée.")))),
    sectionForms,
  );
  await refresh();
}

function measurementForm(base, added) {
  const kind = select("kind", options(MEASUREMENTS));
  const unit = select("unit", []);
  const single = field("Valeur", h("input", { name: "value", type: "number", step: "any", inputmode: "decimal" }));
  const pressure = h("div", { class: "pair" },
    field("Systolique (mmHg)", h("input", { name: "systolic", type: "number", step: "any", inputmode: "decimal" })),
    field("Diastolique (mmHg)", h("input", { name: "diastolic", type: "number", step: "any", inputmode: "decimal" })));
  function sync() {
    const units = MEASUREMENTS[kind.value].units;
    replace(unit, units.map((u) => h("option", { value: u }, label(UNITS, u))));
    const isPressure = kind.value === "blood_pressure";
    single.hidden = isPressure;
    pressure.hidden = !isPressure;
    single.querySelector("input").required = !isPressure;
    pressure.querySelectorAll("input").forEach((input) => { input.required = isPressure; });
  }
  kind.addEventListener("change", sync);
  sync();
  return form({ class: "stack", "aria-label": "Ajouter une mesure" }, async (data, el) => {
    const value = kind.value === "blood_pressure"
      ? { systolic: Number(data.get("systolic")), diastolic: Number(data.get("diastolic")) }
      : Number(data.get("value"));
    await post(`${base}/measurements`, { kind: kind.value, unit: data.get("unit"), value, measured_at: localToUtc(data.get("measured_at")) });
    el.reset();
    el.querySelector("[name=measured_at]").value = nowLocal();
    sync();
    await added();
  },
  field("Mesure", kind), single, pressure, field("Unité", unit),
  field("Date et heure", h("input", { name: "measured_at", type: "datetime-local", required: true, value: nowLocal() })),
  h("button", { type: "submit" }, "Ajouter"));
}

// The series as a line chart: time on the x axis, one line per value (two for blood pressure).
function chart(kind, series) {
  const name = MEASUREMENTS[kind].label;
  if (!series.length) return h("p", { class: "empty" }, `Aucune mesure de ${name.toLowerCase()}.`);
  const lines = kind === "blood_pressure"
    ? [["Systolique", (m) => m.value.systolic], ["Diastolique", (m) => m.value.diastolic]]
    : [[name, (m) => m.value]];
  const [width, height, left, right, top, bottom] = [640, 260, 56, 16, 16, 40];
  const times = series.map((m) => Date.parse(m.measured_at));
  const values = series.flatMap((m) => lines.map(([, read]) => read(m)));
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  let [v0, v1] = [Math.min(...values), Math.max(...values)];
  if (v0 === v1) [v0, v1] = [v0 - 1, v1 + 1];
  const x = (t) => left + (t1 === t0 ? (width - left - right) / 2 : ((t - t0) / (t1 - t0)) * (width - left - right));
  const y = (v) => top + (1 - (v - v0) / (v1 - v0)) * (height - top - bottom);
  const unit = label(UNITS, series[0].unit);
  const titleId = uid("graphe");
  const number = (v) => v.toLocaleString("fr-FR", { maximumFractionDigits: 1 });
  const graph = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-labelledby": titleId },
    s("title", { id: titleId }, `${name} : ${series.length} mesures du ${formatDate(series[0].measured_at)} au ${formatDate(series.at(-1).measured_at)}, de ${number(v0)} à ${number(v1)} ${unit}`),
    s("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }),
    s("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }),
    s("text", { x: left - 6, y: y(v1) + 4, "text-anchor": "end", class: "tick" }, number(v1)),
    s("text", { x: left - 6, y: y(v0) + 4, "text-anchor": "end", class: "tick" }, number(v0)),
    s("text", { x: left, y: height - 14, class: "tick" }, formatDate(series[0].measured_at)),
    s("text", { x: width - right, y: height - 14, "text-anchor": "end", class: "tick" }, formatDate(series.at(-1).measured_at)),
    lines.map(([, read], i) => [
      s("polyline", { points: series.map((m, j) => `${x(times[j]).toFixed(1)},${y(read(m)).toFixed(1)}`).join(" "), class: `line line-${i}` }),
      series.map((m, j) => s("circle", { cx: x(times[j]).toFixed(1), cy: y(read(m)).toFixed(1), r: 4, class: `point line-${i}` })),
    ]));
  const legend = lines.length > 1 ? h("p", { class: "legend" }, lines.map(([text], i) => h("span", { class: `key line-${i}` }, text))) : null;
  const table = h("table", {},
    h("caption", {}, `Valeurs de ${name.toLowerCase()} (${unit})`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date"), h("th", { scope: "col" }, "Valeur"))),
    h("tbody", {}, series.map((m) => h("tr", {}, h("td", {}, formatDateTime(m.measured_at)), h("td", {}, measurementValue(m))))));
  return [graph, legend, h("details", {}, h("summary", {}, "Voir les valeurs"), h("div", { class: "scroll" }, table))];
}
