// Search and context side by side for one question: every hit with how each channel scored it,
// the context's tokens against its budget, and, with an LLM on the server, the answer with the
// units it cites marked in the context.

import { api } from "./api.js";
import { unitRow } from "./browse.js";
import { badge, field, fill, h, route, stateOf } from "./dom.js";

function scoreTable(user, hits) {
  const channels = [...new Set(hits.flatMap((hit) => Object.keys(hit.scores)))].sort();
  return h(
    "table",
    { class: "grid hits" },
    h("thead", {}, h("tr", {}, ["#", "Unit", "Score", ...channels].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      hits.map((hit, i) =>
        h(
          "tr",
          { class: "hit", dataset: { id: hit.unit.id, confident: String(hit.confident) } },
          h("td", { "data-label": "#", class: "number" }, i + 1),
          h(
            "td",
            { "data-label": "Unit" },
            h("a", { href: route("unit", user, hit.unit.id) }, hit.unit.text),
            " ",
            badge(hit.unit.kind, "kind"),
            stateOf(hit.unit) === "current" ? null : badge(stateOf(hit.unit)),
            hit.confident ? null : badge("weak match", "weak"),
          ),
          h("td", { "data-label": "Score", class: "number" }, hit.score.toFixed(4)),
          channels.map((c) => h("td", { "data-label": c, class: "number" }, c in hit.scores ? hit.scores[c].toFixed(3) : "·")),
        ),
      ),
    ),
  );
}

function contextPanel(user, context, cited) {
  const share = context.budget_tokens ? Math.min(1, context.tokens / context.budget_tokens) : 0;
  return [
    h(
      "p",
      { id: "tokens", class: "summary" },
      `${context.tokens} / ${context.budget_tokens} tokens`,
      h("meter", { min: 0, max: context.budget_tokens, value: context.tokens, "aria-label": "tokens used", title: `${Math.round(share * 100)}%` }),
    ),
    context.abstained ? h("p", { class: "muted", id: "abstained" }, `Abstained: ${context.reason}`) : null,
    h("pre", { id: "context-text", class: "context" }, context.text),
    context.hits.length
      ? h(
          "ol",
          { id: "context-hits", class: "units" },
          context.hits.map((hit) => {
            const row = unitRow(user, hit.unit);
            if (cited.has(hit.unit.id)) row.classList.add("cited");
            return row;
          }),
        )
      : null,
  ];
}

export async function playgroundView(root, { user }) {
  if (!user) throw new Error("no user to search: this tenant holds no memories yet");
  const query = h("input", { id: "query", type: "search", required: true, autofocus: true, placeholder: "What does memory say about…" });
  const k = h("input", { id: "k", type: "number", min: 1, max: 100, value: 10 });
  const budget = h("input", { id: "budget", type: "number", min: 1, value: 400 });
  const asOf = h("input", { id: "as-of", type: "datetime-local" });
  const session = h("input", { id: "session", type: "text" });
  const tags = h("input", { id: "metadata", type: "text", placeholder: '{"project": "apollo"}' });
  const hitsPanel = h("section", { id: "search-panel", class: "panel", "aria-live": "polite" }, h("h2", {}, "Search"));
  const contextSection = h("section", { id: "context-panel", class: "panel", "aria-live": "polite" }, h("h2", {}, "Context"));
  const answerSection = h("section", { id: "answer-panel", class: "panel wide", hidden: true });
  const form = h(
    "form",
    { id: "playground", class: "filters", role: "search" },
    field("Question", query),
    field("Hits", k),
    field("Token budget", budget),
    field("As of", asOf),
    field("Session", session),
    field("Tags (JSON)", tags),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "run" }, "Search"), h("button", { type: "button", id: "ask" }, "Answer (LLM)")),
  );
  // The API checks the tags; a text that is not JSON at all is said here, before any request.
  const metadata = () => {
    if (!tags.value.trim()) return null;
    try {
      return JSON.parse(tags.value);
    } catch {
      throw new Error(`the tags must be a JSON object, like {"project": "apollo"}: ${tags.value}`);
    }
  };
  const request = () => ({
    query: query.value,
    user_id: user,
    session_id: session.value || null,
    as_of: asOf.value ? new Date(asOf.value).toISOString() : null,
    metadata: metadata(),
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let hits, context;
    try {
      const body = request();
      [hits, context] = await Promise.all([
        api.search({ ...body, k: Number(k.value) }),
        api.context({ ...body, budget_tokens: Number(budget.value) }),
      ]);
    } catch (error) {
      fill(hitsPanel, h("h2", {}, "Search"), h("p", { role: "alert", class: "error" }, error.message));
      return;
    }
    fill(hitsPanel, h("h2", {}, "Search"), hits.length ? scoreTable(user, hits) : h("p", { class: "muted" }, "No hits."));
    fill(contextSection, h("h2", {}, "Context"), contextPanel(user, context, new Set()));
    answerSection.hidden = true;
  });
  form.querySelector("#ask").addEventListener("click", async () => {
    if (!query.value) return query.reportValidity();
    answerSection.hidden = false;
    fill(answerSection, h("h2", {}, "Answer"), h("p", { class: "muted" }, "Asking the model…"));
    try {
      // The context the model read, asked for again: the form may have changed since the search.
      const body = request();
      const { query: question, ...rest } = body;
      const budgetTokens = Number(budget.value);
      const [answer, context] = await Promise.all([
        api.answer({ ...rest, question, budget_tokens: budgetTokens }),
        api.context({ ...body, budget_tokens: budgetTokens }),
      ]);
      const cited = new Set(answer.unit_ids);
      answerSection.dataset.cited = answer.unit_ids.join(" ");
      fill(answerSection, h("h2", {}, "Answer"), h("p", { id: "answer-text", class: "answer" }, answer.text), h("p", { class: "muted" }, `cites ${answer.unit_ids.length} units, ${answer.sources.length} source turns`));
      fill(contextSection, h("h2", {}, "Context"), contextPanel(user, context, cited));
    } catch (error) {
      fill(answerSection, h("h2", {}, "Answer"), h("p", { role: "alert", class: "error" }, error.message));
    }
  });
  fill(root, h("h1", {}, `Search the memory of ${user}`), form, h("div", { class: "panels" }, hitsPanel, contextSection, answerSection));
}
