// Building the page. Everything that comes from the API becomes a text node or an attribute
// value: no HTML is ever parsed from data (the CSP's Trusted Types refuse innerHTML anyway).

const SVG = "http://www.w3.org/2000/svg";
let serial = 0;

function fill(el, attrs, children) {
  append(el, children); // first, so that a select's value finds its option
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.setAttribute("class", value);
    else if (name === "checked" || name === "disabled" || name === "multiple") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG, tag), attrs, children);
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

export function uid(prefix) {
  serial += 1;
  return `${prefix}-${serial}`;
}

// A section titled by its own h2.
export function section(title, ...children) {
  const id = uid("section");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

// A labelled input (or select/textarea given as `control`), with an optional hint.
export function field(label, control, hint) {
  const id = control.id || uid("champ");
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-aide` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), hintEl, control);
}

// `selected`: the option chosen at first, and again when the form is reset.
export function select(name, options, { selected, ...attrs } = {}) {
  return h("select", { name, ...attrs }, options.map(([value, label]) => h("option", { value, selected: value === selected }, label)));
}

export function announce(message) {
  const region = document.getElementById("annonce");
  region.textContent = "";
  setTimeout(() => { region.textContent = message; }, 50);
}

export function errorBox(error) {
  const box = h("div", { class: "error", role: "alert" }, h("p", {}, h("strong", {}, error.lead || "Une erreur est survenue.")));
  if (error.detail) box.append(h("p", {}, `Message du service : ${error.detail}`));
  if (error.details && error.details.length) {
    box.append(h("ul", {}, error.details.map((d) => h("li", {}, d.field ? `${d.field} : ${d.message}` : d.message))));
  }
  if (!error.lead && !error.detail) box.append(h("p", {}, String(error.message || error)));
  return box;
}

// A form whose submission runs `action(data, form)`; errors are shown in the form, and the
// button is disabled while the request runs so a double click sends nothing twice.
export function form(attrs, action, ...children) {
  const feedback = h("div", { class: "feedback" });
  const el = h("form", { novalidate: true, ...attrs }, feedback, ...children);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!el.checkValidity()) {
      const invalid = el.querySelector(":invalid");
      replace(feedback, errorBox({ lead: "Vérifiez le formulaire.", detail: null, details: [{ message: `${labelOf(invalid)} : ${invalid.validationMessage}` }] }));
      invalid.focus();
      return;
    }
    const buttons = el.querySelectorAll("button[type=submit]");
    buttons.forEach((b) => { b.disabled = true; });
    replace(feedback);
    try {
      await action(new FormData(el), el);
    } catch (error) {
      replace(feedback, errorBox(error));
      feedback.querySelector("[role=alert]").focus?.();
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return el;
}

function labelOf(control) {
  const label = control.id && control.form.querySelector(`label[for="${control.id}"]`);
  return label ? label.textContent : control.name;
}

// A button running an async action, its error shown next to it.
export function actionButton(label, action, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    const previous = button.parentElement.querySelector(":scope > .error");
    if (previous) previous.remove();
    try {
      await action();
    } catch (error) {
      button.after(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

// "Afficher plus": loads pages of a list, appending each page's items to `list` (or wherever
// `renderItem` puts them itself when it returns nothing). The caller places `list` and `more`;
// an empty list replaces `shown` (the list, or the table holding it) with `emptyText`.
export function paged(list, loadPage, renderItem, emptyText, shown = list) {
  const more = h("button", { type: "button", class: "secondary more", hidden: true }, "Afficher plus");
  let cursor = null;
  let count = 0;
  async function next() {
    const page = await loadPage(cursor);
    for (const item of page.items) {
      const node = renderItem(item);
      if (node) list.append(node);
    }
    count += page.items.length;
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (count === 0) shown.replaceWith(h("p", { class: "empty" }, emptyText));
  }
  more.addEventListener("click", () => next().catch((error) => more.after(errorBox(error))));
  return { more, ready: next() };
}

const DATE = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeZone: "Europe/Paris" });
const DATE_TIME = new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Paris" });

export function formatDate(value) {
  // A calendar date (YYYY-MM-DD) is a day, not an instant: read it at noon UTC.
  return value ? DATE.format(new Date(value.length === 10 ? `${value}T12:00:00Z` : value)) : "";
}

export function formatDateTime(value) {
  return value ? DATE_TIME.format(new Date(value)) : "";
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} o`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toLocaleString("fr-FR", { maximumFractionDigits: 1 })} Ko`;
  return `${(bytes / 1024 / 1024).toLocaleString("fr-FR", { maximumFractionDigits: 1 })} Mo`;
}

// <input type="datetime-local"> reads local time; the API wants UTC, to the second.
export function localToUtc(value) {
  return value ? new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z") : null;
}

export function nowLocal() {
  const now = new Date();
  now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
  return now.toISOString().slice(0, 16);
}

export function today() {
  return nowLocal().slice(0, 10);
}
