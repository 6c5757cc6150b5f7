// The public /api/v1 interface: bearer tokens, refreshed quietly before they expire and once more
// on a 401; every error becomes an ApiError carrying the server's code and words.

const REFRESH_KEY = "tradesim.refreshToken";
const EARLY_MS = 60_000;
// A refresh the server could not answer (503: the database was busy; a dropped connection) is tried
// again after these pauses before the caller hears of it: a passing outage must not sign the trader out.
const RETRY_PAUSES_MS = [500, 1_000, 2_000, 4_000, 8_000];

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const session = { access: "", refresh: localStorage.getItem(REFRESH_KEY) || "", timer: 0, pending: null };
const listeners = new Set();

export function onSessionChange(listener) {
  listeners.add(listener);
}

export function hasSession() {
  return Boolean(session.refresh);
}

export function accessToken() {
  return session.access;
}

function store(tokens) {
  session.access = tokens.accessToken;
  session.refresh = tokens.refreshToken;
  localStorage.setItem(REFRESH_KEY, tokens.refreshToken);
  clearTimeout(session.timer);
  const delay = Math.max(5_000, tokens.expiresIn * 1000 - EARLY_MS);
  session.timer = setTimeout(() => refresh().catch(forgetUnlessTransient), delay);
  for (const listener of listeners) listener(true);
}

/** True for a failure worth trying again later (the server or the network), false for a refusal. */
export function transient(error) {
  return !(error instanceof ApiError) || error.status >= 500 || error.status === 429;
}

/** Ends the session after a refusal (an expired or revoked refresh token); keeps it after an outage. */
export function forgetUnlessTransient(error) {
  if (!transient(error)) forget();
}

export function forget() {
  clearTimeout(session.timer);
  session.access = "";
  session.refresh = "";
  localStorage.removeItem(REFRESH_KEY);
  for (const listener of listeners) listener(false);
}

async function errorOf(response) {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || "request failed";
  try {
    const body = await response.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch {
    // Not JSON (a proxy's page): the status line is all there is.
  }
  return new ApiError(response.status, code, message);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : response.json();
}

export async function register(email, password) {
  return post("/api/v1/auth/register", { email, password });
}

export async function login(email, password) {
  store(await post("/api/v1/auth/login", { email, password }));
}

/** One refresh at a time: two callers racing would present the same token twice (revoking its family). */
export function refresh() {
  if (!session.pending) {
    session.pending = rotate()
      .then(store)
      .finally(() => {
        session.pending = null;
      });
  }
  return session.pending;
}

async function rotate() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await post("/api/v1/auth/refresh", { refreshToken: session.refresh });
    } catch (error) {
      if (!transient(error) || attempt >= RETRY_PAUSES_MS.length) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSES_MS[attempt]));
    }
  }
}

export async function logout() {
  const token = session.refresh;
  forget();
  if (token) await post("/api/v1/auth/logout", { refreshToken: token }).catch(() => {});
}

async function send(method, path, body, form) {
  const headers = { Authorization: `Bearer ${session.access}` };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  return fetch(path, { method, headers, body: payload });
}

/** JSON in and out; `form` sends multipart instead (uploads). Raw Response when `raw`. */
export async function api(method, path, body, { form, raw } = {}) {
  if (!session.access && session.refresh) await refresh();
  let response = await send(method, path, body, form);
  if (response.status === 401 && session.refresh) {
    try {
      await refresh();
    } catch (error) {
      forgetUnlessTransient(error);
      throw error;
    }
    response = await send(method, path, body, form);
  }
  if (!response.ok) throw await errorOf(response);
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null) search.set(key, value);
  return search.toString();
}
