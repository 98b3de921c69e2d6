// What was held back for review (messages that address the model, floods, repeats of rejected
// attacks, and what was derived from them), each with its reasons; approve or reject it.

import { api } from "./api.js";
import { confirmed, fill, guarded, h, route, when } from "./dom.js";

export async function reviewView(root, { user }) {
  if (!user) throw new Error("no user to review: this tenant holds no memories yet");
  const held = await api.quarantined(user);
  const redraw = () => reviewView(root, { user });
  const decide = (unit, approve) =>
    guarded(async () => {
      const verb = approve ? "Approve" : "Reject";
      if (!(await confirmed(`${verb} this ${unit.kind}? ${approve ? "It returns to every read." : "It is deleted; its words teach the tenant a lesson."}`))) return;
      await api.review(user, unit.id, approve);
      await redraw();
    });
  fill(
    root,
    h("h1", {}, `Held for review: ${user}`),
    held.length === 0
      ? h("p", { class: "muted", id: "nothing-held" }, "Nothing is held for review.")
      : h(
          "ol",
          { id: "held", class: "units" },
          held.map((unit) =>
            h(
              "li",
              { class: "unit state-quarantined", dataset: { id: unit.id } },
              h("div", { class: "meta" }, when(unit.occurred_at || unit.recorded_at), ` ${unit.kind}`, unit.speaker ? ` · ${unit.speaker}` : ""),
              h("a", { class: "text", href: route("unit", user, unit.id) }, unit.text),
              h("ul", { class: "reasons" }, (unit.metadata.quarantine.reasons || []).map((reason) => h("li", {}, reason))),
              h(
                "div",
                { class: "actions" },
                h("button", { type: "button", class: "approve", onclick: decide(unit, true) }, "Approve"),
                h("button", { type: "button", class: "danger reject", onclick: decide(unit, false) }, "Reject"),
              ),
            ),
          ),
        ),
  );
}
