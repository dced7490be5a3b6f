// The REST API as the console uses it. The session cookie is HttpOnly; the CSRF token lives only in memory and is
// echoed in X-CSRF-Token on every unsafe request (a reload fetches it again from /auth/me).
// Every answer has the shape its route declares in /openapi.json; tests/console/test_contract.py holds the
// console's reads to those schemas, so nothing here guesses at envelopes or alternative keys.

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !path.startsWith("/api/v1/auth/")) {
    window.dispatchEvent(new CustomEvent("ew:unauthorized"));
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const problem = await response.json(); // FastAPI's error body: {"detail": text or a list of problems}
      detail = typeof problem.detail === "string" ? problem.detail : JSON.stringify(problem.detail ?? problem);
    } catch { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  if (response.status === 204) return null;
  return response.json();
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);
export const patch = (path, body = {}) => request("PATCH", path, body);
export const put = (path, body = {}) => request("PUT", path, body);

export async function me() {
  const who = await get("/api/v1/auth/me");
  csrfToken = who.csrf_token;
  return who;
}

export async function login(fields) {
  const who = await post("/api/v1/auth/login", fields);
  csrfToken = who.csrf_token;
  return who;
}

export async function logout() {
  try { await post("/api/v1/auth/logout"); } finally { csrfToken = null; }
}

const enc = encodeURIComponent;

export const alerts = {
  async list(params) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
    const page = await get(`/api/v1/alerts?${query}`);
    return page.alerts;
  },
  get: (id) => get(`/api/v1/alerts/${enc(id)}`),
  ack: (id) => post(`/api/v1/alerts/${enc(id)}/ack`),
  assign: (id, assignee) => post(`/api/v1/alerts/${enc(id)}/assign`, { assignee }),
  comment: (id, body) => post(`/api/v1/alerts/${enc(id)}/comments`, { body }),
  resolve: (id, resolution, note) => post(`/api/v1/alerts/${enc(id)}/resolve`, { resolution, note }),
  ackMatching: (filter) => post("/api/v1/alerts/ack", filter),
  silences: () => get("/api/v1/alerts/silences"),
  silence: (fields) => post("/api/v1/alerts/silences", fields),
  endSilence: (id) => post(`/api/v1/alerts/silences/${enc(id)}/end`),
};

export const consoleApi = {
  settings: () => get("/api/v1/console/settings"),
  preferences: () => get("/api/v1/console/preferences"),
  savePreferences: (prefs) => put("/api/v1/console/preferences", prefs),
};

export const residents = {
  elders: () => get("/api/v1/overview/elders"),
  get: async (id) => (await get(`/api/v1/overview/elders?resident=${enc(id)}`))[0] ?? null,
  markAway: (id, reason, hours) => post(`/api/v1/residents/${enc(id)}/away`, {
    from: new Date().toISOString(), to: new Date(Date.now() + hours * 3600e3).toISOString(), reason }),
  routine: (id) => get(`/api/v1/residents/${enc(id)}/routine`),
};

export const cameras = {
  list: () => get("/api/v1/cameras"),
};

export const overview = {
  summary: () => get("/api/v1/overview"),
  counts: (bucket) => get(`/api/v1/overview/alert-counts?bucket=${bucket}`),
  sparklines: () => get("/api/v1/overview/sparklines?limit=18"),
  facets: () => get("/api/v1/overview/facets"),
};

export const sensors = {
  unknownMetrics: () => get("/api/v1/unknown-metrics"),
};

export const users = {
  list: () => get("/api/v1/users"),
  add: (user) => post("/api/v1/users", user),
  change: (name, fields) => patch(`/api/v1/users/${enc(name)}`, fields),
};
