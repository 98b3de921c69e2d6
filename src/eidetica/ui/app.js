// The UI's frame: one layout, one navigation, views chosen by the address's fragment
// (#/view/user/...). A view is a function that fills the element it is given (and keeps it up to
// date after the reader's actions); adding a page is one entry in VIEWS
// and, when it is a place to go, one in NAV.

import { ApiError, api, apiKey, setApiKey } from "./api.js";
import { fill, h, route } from "./dom.js";
import { browseView } from "./browse.js";
import { entityView, peopleView } from "./people.js";
import { playgroundView } from "./playground.js";
import { reviewView } from "./review.js";
import { unitView } from "./unit.js";
import { usersView } from "./users.js";

const VIEWS = {
  "": usersView,
  users: usersView,
  browse: browseView,
  unit: unitView,
  search: playgroundView,
  review: reviewView,
  people: peopleView,
  entity: entityView,
};
/** The places the navigation offers: a label and the view it opens for the chosen user. */
const NAV = [
  { label: "Users", view: "users", perUser: false },
  { label: "Memory", view: "browse", perUser: true },
  { label: "People", view: "people", perUser: true },
  { label: "Search", view: "search", perUser: true },
  { label: "Review", view: "review", perUser: true },
];

const main = document.getElementById("main");
const picker = document.getElementById("user-picker");
let users = [];

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || "", args: parts.slice(1) };
}

/** The user the views are about: the one in the address, else the picker's while it is one of
 * this key's users (another key may have been typed since), else the first. */
function currentUser(args) {
  return args[0] || (users.includes(picker.value) ? picker.value : users[0]) || null;
}

function drawNav(view, user) {
  fill(
    document.getElementById("nav"),
    NAV.map((item) => {
      const parts = item.perUser && user ? [item.view, user] : [item.view];
      const here = item.view === view || (item.view === "users" && view === "");
      return h("li", {}, h("a", { href: route(...parts), "aria-current": here ? "page" : null }, item.label));
    }),
  );
}

function drawPicker(user) {
  fill(
    picker,
    users.map((u) => h("option", { value: u, selected: u === user }, u)),
  );
  picker.disabled = users.length === 0;
}

picker.addEventListener("change", () => {
  const { view } = parseRoute();
  const perUser = NAV.find((item) => item.view === view && item.perUser);
  location.hash = route(perUser ? view : "browse", picker.value);
});

document.getElementById("sign-out").addEventListener("click", () => {
  setApiKey(null);
  render();
});

/** The key prompt, shown when the API asks for a key this tab does not have. */
function loginView(message) {
  const input = h("input", { id: "api-key", type: "password", autocomplete: "off", required: true });
  const form = h(
    "form",
    { class: "card login", id: "login" },
    h("h1", {}, "API key"),
    h("p", {}, message),
    h("label", { for: "api-key" }, "Key"),
    input,
    h("button", { type: "submit" }, "Open"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    render();
  });
  fill(main, form);
  input.focus();
}

function showError(error) {
  if (error instanceof ApiError && error.status === 401) {
    loginView(apiKey() ? "That key was refused: " + error.message : "This server asks for an API key.");
    return;
  }
  fill(main, h("div", { class: "card error", role: "alert" }, h("h1", {}, "Something went wrong"), h("p", {}, error.message)));
}

// The skip link moves the focus past the navigation; as a plain "#main" link it would leave the
// view's address.
document.querySelector("a.skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

let drawing = 0; // the newest render; an older one still waiting on the API draws nothing

/** Draw the view the address names; ``moved`` when the reader went there (the focus follows).
 * The view draws into a section of its own, shown once it is done, and only if no newer address
 * was asked for meanwhile: answers can arrive out of order. */
async function render(moved = false) {
  const mine = ++drawing;
  document.getElementById("sign-out").hidden = !apiKey();
  const { view, args } = parseRoute();
  const draw = VIEWS[view];
  try {
    const known = await api.users();
    if (mine !== drawing) return;
    users = known;
    const user = currentUser(args);
    drawPicker(user);
    drawNav(view, user);
    fill(main, h("p", { class: "muted", "aria-busy": "true" }, "Loading…"));
    if (!draw) throw new Error(`no page called "${view}"`);
    const section = h("section", { class: "view" });
    await draw(section, { user, args: args.slice(1), users });
    if (mine !== drawing) return;
    fill(main, section);
    const first = section.querySelector("[autofocus]");
    if (first) first.focus();
    else if (moved) main.focus({ preventScroll: true });
  } catch (error) {
    if (mine === drawing) showError(error);
  }
}

window.addEventListener("hashchange", () => render(true));
render();
