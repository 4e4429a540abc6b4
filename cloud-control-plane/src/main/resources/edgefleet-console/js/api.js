// The console's one door to the control plane: /api/v1 with the bearer token the user signed in with.
// Every failure becomes an ApiError carrying the RFC 7807 problem JSON the API answered.

const TOKEN_KEY = 'edgefleet.token';
// Relative to /ui/, so a reverse proxy that mounts the control plane under a prefix keeps working.
const BASE = new URL('../api/v1', document.baseURI).pathname;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

/** Calls the API; resolves to the parsed JSON body, rejects with ApiError (network failures too). */
export async function api(path, { method = 'GET', body, bearer = token() } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (bearer) {
    headers.Authorization = `Bearer ${bearer}`;
  }
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body: payload, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { title: 'Control plane unreachable', detail: `${method} ${BASE + path}: ${e.message}` });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const problem = data && typeof data === 'object' ? data : { title: res.statusText || 'Error', detail: text.slice(0, 300) };
    problem.status ??= res.status;
    throw new ApiError(res.status, problem);
  }
  return data;
}

export const enc = encodeURIComponent;
