// Building the page from data. Every stored text becomes a text node, never markup: a memory
// that holds "<script>" is shown as those characters.

/** An element with attributes (or listeners, for "on..." names) and children; a string child is
 * text. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** Add children (strings as text, nested arrays flattened, null skipped) to an element. */
export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replace an element's content. */
export function fill(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

/** A form control with its label above it (the control needs an id for the label to name). */
export function field(label, control) {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

/** A table of records: a header of column names, then one row a record, as ``row`` builds it
 * (each cell carries its column's name as ``data-label``, for the narrow-screen cards). */
export function grid(id, columns, records, row) {
  return h(
    "table",
    { id, class: "grid" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, records.map(row)),
  );
}

/** A link inside the UI to a view (its parts are encoded). */
export function link(text, ...parts) {
  return h("a", { href: route(...parts) }, text);
}

/** The fragment of a view's address: #/view/part/part. */
export function route(...parts) {
  return "#/" + parts.map((p) => encodeURIComponent(p)).join("/");
}

/** A time as the reader's locale writes it, with the ISO text in a tooltip. */
export function when(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const date = new Date(iso);
  return h("time", { datetime: iso, title: iso }, date.toLocaleString());
}

/** A unit's state in words: current, superseded, quarantined, archived or deleted. */
export function stateOf(unit) {
  if (unit.status === "deleted") return "deleted";
  if (unit.status === "archived") return "archived";
  if (unit.metadata && unit.metadata.quarantine) return "quarantined";
  if (unit.valid_to) return "superseded";
  return "current";
}

export function badge(text, kind = text) {
  return h("span", { class: `badge badge-${kind}` }, text);
}

/** Ask before a change that cannot be taken back; resolves true when confirmed. */
export function confirmed(question) {
  const dialog = document.getElementById("confirm");
  fill(document.getElementById("confirm-text"), question);
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

/** Say, above the view, that an action failed, in the API's words. */
export function failed(error) {
  const main = document.getElementById("main");
  main.querySelector(":scope > .action-error")?.remove();
  main.prepend(h("p", { role: "alert", class: "card error action-error" }, error.message));
}

/** An event handler that reports its failure in the page instead of leaving it unhandled. */
export function guarded(handler) {
  return async (...args) => {
    try {
      await handler(...args);
    } catch (error) {
      failed(error);
    }
  };
}
