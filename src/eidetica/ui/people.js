// Who and what a user's memory is about: the user's profile, the people, pets, places and
// organisations it mentions, and one entity's card (what memory holds about it, its relations,
// what comes up with it). Everything is read from /v1, as every other view is.

import { ApiError, api } from "./api.js";
import { badge, field, fill, grid, h, link, route, when } from "./dom.js";
import { unitRow } from "./browse.js";

const KINDS = ["person", "pet", "place", "organisation", "other"];
const SECTIONS = ["attributes", "relationships", "preferences", "activities"];

/** The user's own profile, or why there is none (the API's words: no named user, say). */
async function profileCard(user) {
  let profile;
  try {
    profile = await api.profile(user);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500) throw error;
    return h("section", { id: "profile", class: "card" }, h("h2", {}, "Profile"), h("p", { class: "muted" }, error.message));
  }
  const lines = (section) => profile.lines.filter((line) => line.section === section);
  return h(
    "section",
    { id: "profile", class: "card", "aria-labelledby": "profile-title" },
    h("h2", { id: "profile-title" }, `Profile of ${profile.entity.name}`),
    h("p", { class: "muted" }, `${profile.lines.length} current statements · ${profile.tokens} tokens`),
    profile.summary ? h("p", { id: "profile-summary", title: "written by the LLM from the lines below" }, profile.summary) : null,
    SECTIONS.filter((s) => lines(s).length).map((section) => [
      h("h3", {}, section[0].toUpperCase() + section.slice(1)),
      h(
        "ul",
        { class: "profile-lines", dataset: { section } },
        lines(section).map((line) => h("li", {}, h("a", { href: route("unit", user, line.unit_id) }, line.text), " ", when(line.said_at))),
      ),
    ]),
  );
}

function kindFilter(user, kind) {
  const select = h(
    "select",
    { id: "f-entity-kind" },
    ["", ...KINDS].map((k) => h("option", { value: k, selected: (kind || "") === k }, k || "every kind")),
  );
  select.addEventListener("change", () => {
    location.hash = select.value ? route("people", user, select.value) : route("people", user);
  });
  return h("form", { class: "filters", role: "search", onsubmit: (event) => event.preventDefault() }, field("Kind", select));
}

function entityTable(user, entities) {
  if (entities.length === 0) return h("p", { class: "muted", id: "no-entities" }, "Memory names no one and nothing of this kind yet.");
  return grid("entities", ["Name", "Kind", "Mentions", "First", "Last"], entities, (e) =>
    h(
      "tr",
      { dataset: { key: e.key, kind: e.kind } },
      h(
        "th",
        { scope: "row", "data-label": "Name" },
        link(e.name, "entity", user, e.name),
        e.aliases.length ? h("span", { class: "muted aliases" }, ` also ${e.aliases.join(", ")}`) : null,
      ),
      h("td", { "data-label": "Kind" }, badge(e.kind, "kind")),
      h("td", { "data-label": "Mentions", class: "number" }, e.mentions),
      h("td", { "data-label": "First" }, when(e.first_mentioned)),
      h("td", { "data-label": "Last" }, when(e.last_mentioned)),
    ),
  );
}

export async function peopleView(root, { user, args }) {
  if (!user) throw new Error("no user to show: this tenant holds no memories yet");
  const kind = KINDS.includes(args[0]) ? args[0] : null;
  const [profile, entities] = await Promise.all([profileCard(user), api.entities(user, kind)]);
  fill(
    root,
    h("h1", {}, `People, places and things: ${user}`),
    profile,
    h("h2", {}, "Mentioned in memory"),
    kindFilter(user, kind),
    entityTable(user, entities),
  );
}

function relationsTable(relations) {
  return grid("relations", ["Subject", "Relation", "Object", "From", "Until"], relations, (r) =>
    h(
      "tr",
      { class: r.valid_to ? "state-superseded" : "state-current" },
      h("td", { "data-label": "Subject" }, r.subject),
      h("td", { "data-label": "Relation" }, r.relation),
      h("td", { "data-label": "Object" }, r.object),
      h("td", { "data-label": "From" }, when(r.valid_from)),
      h("td", { "data-label": "Until" }, r.valid_to ? when(r.valid_to) : "now"),
    ),
  );
}

export async function entityView(root, { user, args }) {
  const card = await api.entity(user, args[0]);
  const e = card.entity;
  fill(
    root,
    h("p", { class: "crumbs" }, link(`← People, places and things of ${user}`, "people", user)),
    h("h1", {}, `${e.name} `, badge(e.kind, "kind")),
    h(
      "p",
      { class: "summary" },
      `${e.mentions} mentions, from `,
      when(e.first_mentioned),
      " to ",
      when(e.last_mentioned),
      e.aliases.length ? ` · also ${e.aliases.join(", ")}` : "",
    ),
    h("h2", {}, "What memory holds"),
    h("ol", { id: "entity-units", class: "units" }, card.units.map((unit) => unitRow(user, unit))),
    card.relations.length ? [h("h2", {}, "Relations"), relationsTable(card.relations)] : null,
    card.related.length
      ? [h("h2", {}, "Mentioned with"), h("ul", { id: "related-entities", class: "inline-list" }, card.related.map((name) => h("li", {}, link(name, "entity", user, name))))]
      : null,
  );
}
