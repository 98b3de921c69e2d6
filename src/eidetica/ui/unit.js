// One unit: its text, scope and validity, where it came from and what came from it, what it
// replaced or was replaced by, its history as a timeline; edit and delete, after a confirmation,
// through the same API every other face uses.

import { api } from "./api.js";
import { badge, confirmed, fill, guarded, h, link, route, stateOf, when } from "./dom.js";
import { unitRow } from "./browse.js";

function facts(unit) {
  const rows = [
    ["Id", h("code", {}, unit.id)],
    ["Kind", unit.kind],
    ["State", stateOf(unit)],
    ["Speaker", unit.speaker ? `${unit.speaker}${unit.role ? ` (${unit.role})` : ""}` : null],
    ["User", unit.scope.user_id],
    ["Agent", unit.scope.agent_id],
    ["Session", unit.scope.session_id],
    ["Said or happened", unit.occurred_at ? when(unit.occurred_at) : null],
    ["Valid from", unit.valid_from ? when(unit.valid_from) : null],
    ["Valid until", unit.valid_to ? when(unit.valid_to) : null],
    ["Stored", when(unit.recorded_at)],
    ["Version", unit.version],
    ["Entities", unit.entities.length ? unit.entities.join(", ") : null],
    ["Sources", unit.sources.length ? unit.sources.join(", ") : null],
  ];
  return h(
    "dl",
    { class: "facts" },
    rows.filter(([, value]) => value !== null && value !== undefined).map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]),
  );
}

/** Links to other units by id, each with its text (a unit this user cannot see is said so). */
async function linked(user, ids) {
  const units = await Promise.all(ids.map((id) => api.get(user, id).catch(() => null)));
  return h(
    "ul",
    { class: "links" },
    ids.map((id, i) => h("li", {}, units[i] ? unitRow(user, units[i]) : h("span", { class: "muted" }, `${id} (not found)`))),
  );
}

function timeline(entries) {
  return h(
    "ol",
    { id: "history", class: "timeline" },
    entries.map((entry) =>
      h(
        "li",
        { class: `history-entry op-${entry.op}`, dataset: { op: entry.op } },
        h("div", { class: "meta" }, badge(entry.op, "op"), ` v${entry.version} · `, when(entry.at)),
        h("p", { class: "text" }, entry.text),
      ),
    ),
  );
}

function editor(user, unit, redraw) {
  const text = h("textarea", { id: "edit-text", rows: 3 }, unit.text);
  const form = h(
    "form",
    { id: "edit-form", class: "editor", hidden: true },
    h("label", { for: "edit-text" }, "New text"),
    text,
    h("div", { class: "actions" }, h("button", { type: "submit", id: "save" }, "Save new version"), h("button", { type: "button", id: "cancel-edit", onclick: () => (form.hidden = true) }, "Cancel")),
  );
  form.addEventListener(
    "submit",
    guarded(async (event) => {
      event.preventDefault();
      if (!(await confirmed(`Save "${text.value}" as version ${unit.version + 1}? The old text stays in the history.`))) return;
      await api.update(user, unit.id, text.value);
      await redraw();
    }),
  );
  return form;
}

export async function unitView(root, { user, args }) {
  const id = args[0];
  const [unit, history] = await Promise.all([api.get(user, id), api.history(user, id)]);
  const state = stateOf(unit);
  const redraw = () => unitView(root, { user, args });
  const derived = unit.kind === "turn" ? await api.list(user, { derived_from: unit.id, include_deleted: "true" }) : [];
  const sameEntity = unit.status === "deleted" ? [] : (await api.related(user, unit.id)).filter((l) => l.kind === "same_entity");
  const meta = unit.metadata || {};
  const ids = (value) => [value].flat().filter(Boolean); // one id or a list of them
  const editable = unit.kind !== "turn" && unit.status !== "deleted";
  const form = editable ? editor(user, unit, redraw) : null;
  const actions = h(
    "div",
    { class: "actions" },
    unit.status === "archived"
      ? h("button", {
          type: "button",
          id: "restore",
          onclick: guarded(async () => {
            await api.restore(user, unit.id); // it only brings back what was kept: nothing to confirm
            await redraw();
          }),
        }, "Restore")
      : null,
    editable ? h("button", { type: "button", id: "edit", onclick: () => { form.hidden = false; form.querySelector("textarea").focus(); } }, "Edit") : null,
    unit.status !== "deleted"
      ? h("button", {
          type: "button",
          id: "delete",
          class: "danger",
          onclick: guarded(async () => {
            if (!(await confirmed(`Delete this ${unit.kind}? It is hidden from every read; its history keeps it.`))) return;
            await api.remove(user, unit.id);
            await redraw();
          }),
        }, "Delete")
      : null,
  );
  const extra = { ...meta };
  delete extra.supersedes;
  delete extra.superseded_by;
  fill(
    root,
    h("p", { class: "crumbs" }, link(`← Memory of ${user}`, "browse", user)),
    h("h1", {}, `${unit.kind[0].toUpperCase()}${unit.kind.slice(1)} `, badge(state)),
    h("blockquote", { id: "unit-text", class: `unit-text state-${state}` }, unit.text),
    actions,
    form,
    facts(unit),
    unit.derived_from.length ? [h("h2", {}, "Came from"), await linked(user, unit.derived_from)] : null,
    unit.kind === "turn"
      ? [h("h2", {}, "Derived from this turn"), derived.length ? h("ol", { id: "derived", class: "units" }, derived.map((u) => unitRow(user, u))) : h("p", { class: "muted" }, "Nothing was derived from it.")]
      : null,
    ids(meta.supersedes).length ? [h("h2", {}, "Replaces"), await linked(user, ids(meta.supersedes))] : null,
    ids(meta.superseded_by).length ? [h("h2", {}, "Replaced by"), await linked(user, ids(meta.superseded_by))] : null,
    sameEntity.length
      ? [
          h("h2", {}, "Also about the same people and things"),
          h(
            "div",
            { id: "same-entity" },
            [...new Set(sameEntity.map((l) => l.via))].map((via) => [
              h("h3", {}, link(via, "entity", user, via)),
              h("ol", { class: "units" }, sameEntity.filter((l) => l.via === via).map((l) => unitRow(user, l.unit))),
            ]),
          ),
        ]
      : null,
    Object.keys(extra).length ? [h("h2", {}, "Metadata"), h("pre", { class: "json" }, JSON.stringify(extra, null, 2))] : null,
    h("h2", {}, "History"),
    timeline(history),
    h("p", {}, h("a", { href: route("search", user) }, "Search this user's memory →")),
  );
}
