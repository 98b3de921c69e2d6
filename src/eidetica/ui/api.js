// The UI's only way to memory: the /v1 REST API of the server that serves it, with the API key
// the reader typed (kept in this tab's session storage), so the API's tenant rules are the UI's.

const KEY = "eidetica-api-key";

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

/** Call the API; resolves to the JSON answer, rejects with an ApiError holding the API's words. */
export async function call(method, path, { query = {}, body } = {}) {
  const url = new URL("/v1" + path, location.origin);
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
  }
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (answer && answer.error) || {};
    throw new ApiError(response.status, error.type || "HTTPError", error.message || response.statusText);
  }
  return answer;
}

export const api = {
  users: () => call("GET", "/users").then((a) => a.users),
  stats: (user) => call("GET", "/stats", { query: { user_id: user } }),
  list: (user, filters = {}) =>
    call("GET", "/memories", { query: { user_id: user, ...filters } }).then((a) => a.memories),
  get: (user, id) => call("GET", `/memories/${encodeURIComponent(id)}`, { query: { user_id: user } }),
  history: (user, id) =>
    call("GET", `/memories/${encodeURIComponent(id)}/history`, { query: { user_id: user } }).then(
      (a) => a.history,
    ),
  update: (user, id, text) =>
    call("PATCH", `/memories/${encodeURIComponent(id)}`, { query: { user_id: user }, body: { text } }),
  remove: (user, id) => call("DELETE", `/memories/${encodeURIComponent(id)}`, { query: { user_id: user } }),
  restore: (user, id) => call("POST", `/memories/${encodeURIComponent(id)}/restore`, { query: { user_id: user } }),
  quarantined: (user) => call("GET", "/quarantine", { query: { user_id: user } }).then((a) => a.memories),
  review: (user, id, approve) =>
    call("POST", `/quarantine/${encodeURIComponent(id)}`, { query: { user_id: user }, body: { approve } }),
  entities: (user, kind) => call("GET", "/entities", { query: { user_id: user, kind } }).then((a) => a.entities),
  entity: (user, name) => call("GET", `/entities/${encodeURIComponent(name)}`, { query: { user_id: user } }),
  related: (user, id) =>
    call("GET", `/memories/${encodeURIComponent(id)}/related`, { query: { user_id: user } }).then((a) => a.related),
  profile: (user) => call("GET", "/profile", { query: { user_id: user } }),
  search: (body) => call("POST", "/search", { body }).then((a) => a.hits),
  context: (body) => call("POST", "/context", { body }),
  answer: (body) => call("POST", "/answer", { body }),
};
