// A user's memory in time order, or grouped by session, with the filters the API offers (kind,
// agent, session, dates, deleted units too) and a text filter over what is shown.

import { api } from "./api.js";
import { badge, field, fill, h, route, stateOf, when } from "./dom.js";

const PAGE = 200;

function filtersForm(values) {
  const kind = h(
    "select",
    { id: "f-kind", name: "kinds" },
    ["", "turn", "fact", "event", "passage"].map((k) => h("option", { value: k, selected: values.kinds === k }, k || "every kind")),
  );
  const input = (id, name, type = "text") => h("input", { id, name, type, value: values[name] || "" });
  return h(
    "form",
    { class: "filters", id: "filters", role: "search" },
    field("Kind", kind),
    field("Agent", input("f-agent", "agent_id")),
    field("Session", input("f-session", "session_id")),
    field("From", input("f-since", "since", "date")),
    field("To", input("f-until", "until", "date")),
    field("Text", input("f-text", "text", "search")),
    h(
      "div",
      { class: "field checks" },
      h("label", {}, h("input", { type: "checkbox", id: "f-deleted", name: "include_deleted", checked: values.include_deleted === "true" }), " deleted too"),
      h("label", {}, h("input", { type: "checkbox", id: "f-archived", name: "include_archived", checked: values.include_archived === "true" }), " archived too"),
      h("label", {}, h("input", { type: "checkbox", id: "f-sessions", name: "by_session", checked: values.by_session === "true" }), " by session"),
    ),
    h("button", { type: "submit" }, "Apply"),
  );
}

/** The API's filters from the form's values: dates as the whole days they name. */
function apiFilters(values) {
  return {
    kinds: values.kinds || null,
    agent_id: values.agent_id || null,
    session_id: values.session_id || null,
    since: values.since ? `${values.since}T00:00:00+00:00` : null,
    until: values.until ? `${values.until}T23:59:59.999999+00:00` : null,
    include_deleted: values.include_deleted === "true" ? "true" : null,
    include_archived: values.include_archived === "true" ? "true" : null,
  };
}

export function unitRow(user, unit) {
  const state = stateOf(unit);
  return h(
    "li",
    { class: `unit state-${state}`, dataset: { id: unit.id, state, kind: unit.kind } },
    h(
      "div",
      { class: "meta" },
      when(unit.occurred_at || unit.valid_from || unit.recorded_at), // a fact: when it was said
      badge(unit.kind, "kind"),
      state === "current" ? null : badge(state),
      unit.speaker ? h("span", { class: "speaker" }, unit.speaker) : null,
      unit.scope.session_id ? h("span", { class: "muted" }, `session ${unit.scope.session_id}`) : null,
    ),
    h("a", { class: "text", href: route("unit", user, unit.id) }, unit.text),
  );
}

function unitList(user, units, bySession) {
  if (!bySession) return h("ol", { id: "units", class: "units" }, units.map((u) => unitRow(user, u)));
  const sessions = new Map();
  for (const unit of units) {
    const key = unit.scope.session_id || "(no session)";
    if (!sessions.has(key)) sessions.set(key, []);
    sessions.get(key).push(unit);
  }
  return h(
    "div",
    { id: "units" },
    [...sessions].map(([session, members]) =>
      h("section", { class: "session" }, h("h2", {}, `Session ${session}`, h("span", { class: "muted" }, ` · ${members.length}`)), h("ol", { class: "units" }, members.map((u) => unitRow(user, u)))),
    ),
  );
}

export async function browseView(root, { user, args }) {
  if (!user) throw new Error("no user to show: this tenant holds no memories yet");
  const values = Object.fromEntries(new URLSearchParams(args[0] || ""));
  const form = filtersForm(values);
  const units = await api.list(user, { ...apiFilters(values), limit: PAGE, offset: Number(values.offset || 0) });
  const needle = (values.text || "").toLowerCase();
  const shown = needle ? units.filter((u) => u.text.toLowerCase().includes(needle)) : units;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const query = new URLSearchParams();
    for (const [name, value] of data) if (value) query.set(name, value === "on" ? "true" : value);
    location.hash = route("browse", user, query.toString());
  });
  const offset = Number(values.offset || 0);
  const pageLink = (to, label) => {
    const query = new URLSearchParams(values);
    query.set("offset", String(to));
    return h("a", { href: route("browse", user, query.toString()), class: "button" }, label);
  };
  fill(
    root,
    h("h1", {}, `Memory of ${user}`),
    form,
    h("p", { class: "summary", id: "count" }, `${shown.length} shown`, needle ? ` of ${units.length} loaded` : "", offset ? ` (from #${offset + 1})` : ""),
    shown.length ? unitList(user, shown, values.by_session === "true") : h("p", { class: "muted" }, "Nothing matches."),
    h("nav", { class: "pager", "aria-label": "Pages" }, offset ? pageLink(Math.max(0, offset - PAGE), "Previous page") : null, units.length === PAGE ? pageLink(offset + PAGE, "Next page") : null),
  );
}
