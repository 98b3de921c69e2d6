// The tenant's users, each with counts by kind, sessions, last activity, and what waits: units
// without vectors, units held for review.

import { api } from "./api.js";
import { fill, grid, h, link, when } from "./dom.js";

const KINDS = ["turn", "fact", "event", "passage"];
/** Users summarised on the page (three API calls each); the picker still offers every user. */
const SHOWN = 100;

async function summary(user) {
  const [stats, held] = await Promise.all([api.stats(user), api.quarantined(user)]);
  const units = Object.values(stats.units_by_kind).reduce((a, b) => a + b, 0);
  // The newest turn by the time it was said: the list is in time order, so it is the last one.
  const turns = stats.units_by_kind.turn || 0;
  const newest = turns ? await api.list(user, { kinds: "turn", limit: 1, offset: turns - 1 }) : [];
  return { user, stats, units, held: held.length, last: newest[0] || null };
}

/** A bar of a user's units split by kind: the mix is seen faster than four numbers are read. */
function mixBar(counts, total) {
  const bar = h("div", { class: "mix", role: "img", "aria-label": KINDS.map((k) => `${counts[k] || 0} ${k}s`).join(", ") });
  for (const kind of KINDS) {
    if (!counts[kind]) continue;
    const segment = h("span", { class: `seg seg-${kind}`, title: `${counts[kind]} ${kind}s` });
    segment.style.flexGrow = String(counts[kind] / Math.max(total, 1)); // CSSOM: allowed by the CSP
    bar.append(segment);
  }
  return bar;
}

function legend() {
  return h("p", { class: "legend", "aria-hidden": "true" }, KINDS.map((k) => h("span", {}, h("span", { class: `swatch seg-${k}` }), ` ${k}s `)));
}

export async function usersView(root, { users }) {
  if (users.length === 0) {
    fill(root, h("div", { class: "card" }, h("h1", {}, "No memories yet"), h("p", {}, "Add some with the API, the CLI or MCP.")));
    return;
  }
  const rows = await Promise.all(users.slice(0, SHOWN).map(summary));
  const total = (key) => rows.reduce((sum, row) => sum + (row.stats.units_by_kind[key] || 0), 0);
  fill(
    root,
    h("h1", {}, "Users"),
    h(
      "p",
      { class: "summary" },
      users.length > SHOWN ? `the first ${SHOWN} of ${users.length} users · ` : `${rows.length} users · `,
      `${rows.reduce((s, r) => s + r.units, 0)} units · `,
      KINDS.map((k) => `${total(k)} ${k}s`).join(" · "),
    ),
    legend(),
    grid(
      "users",
      ["User", "Mix", ...KINDS.map((k) => k + "s"), "Sessions", "Deleted", "Unembedded", "Held", "Last activity"],
      rows,
      (row) =>
        h(
          "tr",
          { dataset: { user: row.user } },
          h("th", { scope: "row", "data-label": "User" }, link(row.user, "browse", row.user)),
          h("td", { "data-label": "Mix", class: "mix-cell" }, mixBar(row.stats.units_by_kind, row.units)),
          KINDS.map((k) => h("td", { "data-label": k + "s", class: "number" }, row.stats.units_by_kind[k] || 0)),
          h("td", { "data-label": "Sessions", class: "number" }, row.stats.sessions),
          h("td", { "data-label": "Deleted", class: "number" }, row.stats.deleted),
          h("td", { "data-label": "Unembedded", class: "number" }, row.stats.unembedded),
          h("td", { "data-label": "Held", class: "number" }, row.held ? link(String(row.held), "review", row.user) : 0),
          h("td", { "data-label": "Last activity" }, row.last ? when(row.last.occurred_at || row.last.recorded_at) : "—"),
        ),
    ),
  );
}
