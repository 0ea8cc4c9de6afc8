// @ts-check
// The JSON API with bearer tokens: login, refresh (the server's 60-second
// grace makes a refresh whose answer was lost safe to retry with the same
// token), and requests that refresh once on 401.
import * as idb from './idb.js';

/** @typedef {{access: string, refresh: string, expires: number, margin: number, username: string, user_id: string}} Session */

/** The network or the server is not reachable: keep everything, try later. */
export class Offline extends Error {}
/** The refresh token is no longer accepted: the password is needed again. */
export class NeedLogin extends Error {}
/** The server refused a request; status and RFC 9457 problem. */
export class HttpError extends Error {
  /** @param {number} status @param {any} problem */
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** @type {Session | null} */
let session = null;
/** @type {Promise<void> | null} */
let refreshing = null;

export async function loadSession() {
  session = (await idb.get('kv', 'session')) || null;
  return session;
}

export function currentSession() {
  return session;
}

/** @param {any} tk @param {string} username */
async function keep(tk, username) {
  const claims = JSON.parse(atob(tk.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  session = {
    access: tk.access_token, refresh: tk.refresh_token,
    // Refresh a little before expiry: 15 s, or a quarter of a short life.
    expires: Date.now() + tk.expires_in * 1000, margin: Math.min(15000, tk.expires_in * 250), username, user_id: claims.sub,
  };
  await idb.put('kv', session, 'session');
}

/** @param {string} url @param {RequestInit} init */
async function raw(url, init) {
  try {
    return await fetch(url, { ...init, cache: 'no-store' });
  } catch {
    throw new Offline('offline');
  }
}

/** @param {Response} res */
async function body(res) {
  const ct = res.headers.get('Content-Type') || '';
  if (res.status === 204 || !ct.includes('json')) return null;
  return res.json();
}

/** @param {string} username @param {string} password */
export async function login(username, password) {
  const res = await raw('/v1/auth/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new HttpError(res.status, await body(res));
  await keep(await res.json(), username);
  return /** @type {Session} */ (session);
}

/** Exchanges the refresh token; concurrent callers share one exchange. */
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const s = session;
      if (!s) throw new NeedLogin('no session');
      const res = await raw('/v1/auth/refresh', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: s.refresh }),
      });
      if (res.status === 401 || res.status === 422 || res.status === 400) throw new NeedLogin('refresh refused');
      if (!res.ok) throw new Offline(`refresh: HTTP ${res.status}`);
      await keep(await res.json(), s.username);
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/**
 * Sends an authorized request and returns the response; refreshes the
 * access token first when it has expired and once more on a 401.
 * @param {string} method @param {string} path
 * @param {{json?: any, blob?: Blob, headers?: Record<string, string>, asBlob?: boolean}} [opts]
 * @returns {Promise<{status: number, headers: Headers, body: any}>}
 */
export async function request(method, path, opts = {}) {
  if (!session) throw new NeedLogin('no session');
  if (Date.now() > session.expires - (session.margin ?? 15000)) await refresh();
  for (let attempt = 0; ; attempt++) {
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${session.access}`, ...(opts.headers || {}) };
    /** @type {BodyInit | undefined} */
    let b;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      b = JSON.stringify(opts.json);
    } else if (opts.blob) {
      headers['Content-Type'] = opts.blob.type || 'image/jpeg';
      b = opts.blob;
    }
    const res = await raw(path, { method, headers, body: b });
    if (res.status === 401 && attempt === 0) {
      await refresh();
      continue;
    }
    if (res.status === 401) throw new NeedLogin('unauthorized');
    return { status: res.status, headers: res.headers, body: opts.asBlob && res.ok ? await res.blob() : await body(res) };
  }
}

/** Ends the server session, if the network allows; never throws. */
export async function logout() {
  const s = session;
  session = null;
  if (!s) return;
  try {
    await fetch('/v1/auth/logout', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: s.refresh }),
    });
  } catch { /* offline: the refresh token dies with the wiped device */ }
}
