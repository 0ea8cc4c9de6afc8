// @ts-check
// The device's copy of the inspector's work: inspection records (the last
// server copy, the device's answers and any conflicts between them), the
// outbox of writes in order (each with its Idempotency-Key), queued
// photos, and the sync that brings the server's changes in.
import * as idb from './idb.js';
import * as api from './api.js';
import { sameAnswer, visible, isEmpty } from './rules.js';

/** @typedef {import('./rules.js').Answer} Answer */
/** @typedef {import('./rules.js').Content} Content */
/**
 * @typedef {{id: string, facility_id: string, checklist_id: string, version: number, inspection_date: string,
 *   status: string, revision: number, server: Record<string, any>, cleared: Record<string, number>,
 *   answers: Record<string, Answer>, conflicts: Record<string, {server: Answer | null, device: Answer | null}>,
 *   review: any, photos: string[]}} Rec
 */
/**
 * @typedef {{seq?: number, kind: 'create' | 'save' | 'photo' | 'action', inspection: string, key: string,
 *   body?: any, answers?: Record<string, any>, base?: number, sent?: boolean, sha?: string, item?: string,
 *   action?: string, error?: {status: number, title: string, detail?: string, fields?: string[]}}} Entry
 */

/** @type {Set<() => void>} */
const listeners = new Set();
/** @param {() => void} fn */
export function onChange(fn) { listeners.add(fn); }
function changed() { for (const fn of listeners) fn(); }

export const state = { online: navigator.onLine, draining: false, needLogin: false, waiting: 0, blocked: /** @type {Entry | null} */ (null) };

// One object per inspection in memory, shared by the screen and the
// drain, so neither writes back a stale copy over the other's change.
/** @type {Map<string, Rec>} */
const recs = new Map();

/** @param {string} id @returns {Promise<Rec | undefined>} */
export async function getRec(id) {
  if (recs.has(id)) return recs.get(id);
  const r = await idb.get('inspections', id);
  if (r && !recs.has(id)) recs.set(id, r);
  return recs.get(id);
}
/** @returns {Promise<Rec[]>} */
export async function allRecs() {
  for (const r of await idb.all('inspections')) if (!recs.has(r.id)) recs.set(r.id, r);
  return [...recs.values()];
}
/** @param {Rec} rec */
function putRec(rec) {
  recs.set(rec.id, rec);
  return idb.put('inspections', rec);
}

// Read-modify-write of the outbox, one at a time: a save being coalesced
// and the same save being sent must not interleave.
let chain = Promise.resolve();
/**
 * @template T
 * @param {() => Promise<T>} fn @returns {Promise<T>}
 */
function serial(fn) {
  const p = chain.then(fn);
  chain = p.then(() => {}, () => {});
  return p;
}

/** @returns {Promise<Entry[]>} */
async function outbox() {
  const all = await idb.all('outbox');
  return all.sort((a, b) => a.seq - b.seq);
}

/** Counts what is waiting: each answer in a save, each photo, create and action. */
export async function countWaiting() {
  const entries = await outbox();
  state.waiting = entries.reduce((n, e) => n + (e.kind === 'save' ? Object.keys(e.answers || {}).length : 1), 0);
  state.blocked = entries.find((e) => e.error) || null;
  return state.waiting;
}

function uuid() { return crypto.randomUUID(); }

/** Today in Japan, YYYY-MM-DD. */
export function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date());
}

// ---- checklist versions: kept in Cache Storage, which the service worker also answers from

const DATA_CACHE = 'tenken-data';

/** @param {string} id @param {number} n */
export function versionURL(id, n) { return `/v1/checklists/${encodeURIComponent(id)}/versions/${n}`; }

/** @type {Map<string, Content>} */
const contents = new Map();

/**
 * The content of a published version: from memory, the cache, or the network.
 * @param {string} id @param {number} n @returns {Promise<Content>}
 */
export async function content(id, n) {
  const url = versionURL(id, n);
  const known = contents.get(url);
  if (known) return known;
  const cache = await caches.open(DATA_CACHE);
  let res = await cache.match(url);
  if (!res) {
    const r = await api.request('GET', url);
    if (r.status !== 200) throw new api.HttpError(r.status, r.body);
    await cache.put(url, new Response(JSON.stringify(r.body), { headers: { 'Content-Type': 'application/json' } }));
    res = new Response(JSON.stringify(r.body));
  }
  const v = await res.json();
  contents.set(url, v.content);
  return v.content;
}

// ---- local edits

/**
 * Records the device's answer to one item, clears answers its show-if
 * change hides (the server clears those too), and queues the save.
 * @param {Rec} rec @param {Content} c @param {string} key @param {Answer | null} a
 */
export async function setAnswer(rec, c, key, a) {
  /** @type {Record<string, any>} */
  const changes = {};
  if (!a || (isEmpty(a.value) && !a.comment && !(a.photos && a.photos.length))) {
    delete rec.answers[key];
    changes[key] = null;
  } else {
    rec.answers[key] = a;
    changes[key] = payload(a);
  }
  const vis = visible(c, rec.answers);
  for (const k of Object.keys(rec.answers)) {
    if (!vis[k]) {
      delete rec.answers[k];
      changes[k] = null;
    }
  }
  await putRec(rec);
  await enqueueSave(rec.id, changes);
}

/** @param {Answer} a */
function payload(a) {
  /** @type {any} */
  const p = { value: a.value ?? null };
  if (a.comment) p.comment = a.comment;
  if (a.photos && a.photos.length) p.photos = a.photos;
  return p;
}

/**
 * Adds changes to the last entry of the outbox when it is an unsent save
 * of the same inspection (so a photo always goes before the save naming
 * it), else queues a new save.
 * @param {string} id @param {Record<string, any>} changes
 */
async function enqueueSave(id, changes) {
  await serial(() => coalesce(id, changes));
  await afterQueue();
}

/** @param {string} id @param {Record<string, any>} changes */
async function coalesce(id, changes) {
  const entries = await outbox();
  const last = entries[entries.length - 1];
  if (last && last.kind === 'save' && last.inspection === id && !last.sent && !last.error) {
    Object.assign(/** @type {Record<string, any>} */ (last.answers), changes);
    await idb.put('outbox', last);
  } else {
    await idb.put('outbox', { kind: 'save', inspection: id, key: uuid(), answers: changes });
  }
}

async function afterQueue() {
  await countWaiting();
  changed();
  kick();
}

/**
 * Starts an inspection with a client UUID, offline or not.
 * @param {string} facility @param {{checklist_id: string, version: number}} entry
 */
export async function startInspection(facility, entry) {
  const id = uuid();
  const body = { facility_id: facility, checklist_id: entry.checklist_id, version: entry.version, inspection_date: today() };
  /** @type {Rec} */
  const rec = { id, ...body, status: 'draft', revision: 0, server: {}, cleared: {}, answers: {}, conflicts: {}, review: null, photos: [] };
  await putRec(rec);
  await serial(() => idb.put('outbox', { kind: 'create', inspection: id, key: id, body }));
  await afterQueue();
  return rec;
}

/**
 * Queues a photo (already downscaled) for an item and names it in the
 * item's answer: the value of a photo item, else the answer's photos.
 * @param {Rec} rec @param {Content} c @param {import('./rules.js').Item} it @param {Blob} blob
 */
export async function addPhoto(rec, c, it, blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  const sha = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  await idb.put('photos', { sha, blob, inspection: rec.id });
  await serial(() => idb.put('outbox', { kind: 'photo', inspection: rec.id, key: sha, sha, item: it.key }));
  const a = { ...(rec.answers[it.key] || {}) };
  if (it.type === 'photo') {
    const v = Array.isArray(a.value) ? a.value : [];
    if (!v.includes(sha)) a.value = [...v, sha];
  } else {
    const p = a.photos || [];
    if (!p.includes(sha)) a.photos = [...p, sha];
  }
  await setAnswer(rec, c, it.key, a);
  return sha;
}

/** @param {string} sha @returns {Promise<Blob | undefined>} */
export async function photoBlob(sha) {
  const p = await idb.get('photos', sha);
  return p && p.blob;
}

/** @param {Rec} rec @param {string} action 'submit' | 'resubmit' */
export async function queueAction(rec, action) {
  rec.status = 'submitted';
  await putRec(rec);
  await serial(() => idb.put('outbox', { kind: 'action', inspection: rec.id, key: uuid(), action }));
  await afterQueue();
}

/** Keeps the server's value of a conflicting item. @param {Rec} rec @param {string} key */
export async function keepServer(rec, key) {
  const s = rec.conflicts[key].server;
  if (s) rec.answers[key] = s; else delete rec.answers[key];
  delete rec.conflicts[key];
  await putRec(rec);
  await countWaiting();
  changed();
}

/** Keeps the device's value of a conflicting item: saved over the server's, now seen. @param {Rec} rec @param {string} key */
export async function keepDevice(rec, key) {
  const d = rec.conflicts[key].device;
  delete rec.conflicts[key];
  await putRec(rec);
  await enqueueSave(rec.id, { [key]: d ? payload(d) : null });
}

/** Drops a write the server refused for good. @param {Entry} e */
export async function discardEntry(e) {
  await serial(() => idb.del('outbox', /** @type {number} */ (e.seq)));
  if (e.kind === 'create') { recs.delete(e.inspection); await idb.del('inspections', e.inspection); }
  const rec = await getRec(e.inspection);
  if (e.kind === 'save' && rec) {
    // The device goes back to the server's answers for what was dropped.
    for (const k of Object.keys(e.answers || {})) {
      const s = toAnswer(rec.server[k]);
      if (s) rec.answers[k] = s; else delete rec.answers[k];
    }
    await putRec(rec);
  }
  if (e.kind === 'action' && rec && rec.status === 'submitted') {
    // The submit did not happen: the inspection is editable again.
    rec.status = e.action === 'resubmit' ? 'returned' : 'draft';
    await putRec(rec);
  }
  await afterQueue();
}

// ---- merging a server copy into the device's record

/** @param {any} s */
function toAnswer(s) {
  if (!s) return null;
  /** @type {Answer} */
  const a = { value: s.value };
  if (s.comment) a.comment = s.comment;
  if (s.photos && s.photos.length) a.photos = s.photos;
  return a;
}

/**
 * Merges a server copy of an inspection into rec, three ways: items the
 * server changed that the device has not touched take the server's value;
 * items both changed differently become conflicts for the inspector;
 * items the device wrote (ack, the save just acknowledged) stay.
 * @param {Rec} rec @param {any} ins @param {Record<string, any>} [ack]
 */
async function incorporate(rec, ins, ack) {
  if (ins.revision < rec.revision) return rec;
  const entries = (await outbox()).filter((e) => e.inspection === rec.id && e.kind === 'save');
  const pending = new Set(entries.flatMap((e) => Object.keys(e.answers || {})));
  const cleared = ins.cleared || {};
  const keys = new Set([...Object.keys(ins.answers || {}), ...Object.keys(rec.server), ...Object.keys(cleared)]);
  const stripped = new Set();
  for (const k of keys) {
    const now = (ins.answers || {})[k];
    const before = rec.server[k];
    const newRev = now ? now.revision : (cleared[k] ? cleared[k].revision : 0);
    const oldRev = before ? before.revision : rec.cleared[k] || 0;
    if (newRev <= oldRev) continue;
    const server = toAnswer(now);
    if (ack && k in ack && sameAnswer(server, ack[k])) continue;
    if (!pending.has(k)) {
      if (server) rec.answers[k] = server; else delete rec.answers[k];
    } else if (!sameAnswer(server, rec.answers[k])) {
      rec.conflicts[k] = { server, device: rec.answers[k] || null };
      stripped.add(k);
    }
  }
  rec.server = ins.answers || {};
  rec.cleared = Object.fromEntries(Object.entries(cleared).map(([k, v]) => [k, /** @type {any} */ (v).revision]));
  rec.revision = ins.revision;
  rec.status = ins.status;
  rec.review = ins.review || null;
  rec.photos = (ins.photos || []).map((/** @type {any} */ p) => p.sha256);
  // Conflicting items wait for the inspector; unsent saves drop them.
  if (stripped.size) {
    await serial(async () => {
      for (const e of await outbox()) {
        if (e.inspection !== rec.id || e.kind !== 'save' || e.sent) continue;
        let touched = false;
        for (const k of stripped) if (e.answers && k in e.answers) { delete e.answers[k]; touched = true; }
        if (!touched) continue;
        if (Object.keys(e.answers || {}).length) await idb.put('outbox', e); else await idb.del('outbox', /** @type {number} */ (e.seq));
      }
    });
  }
  await putRec(rec);
  return rec;
}

/** A server inspection the device did not have yet. @param {any} ins */
async function adopt(ins) {
  /** @type {Rec} */
  const rec = {
    id: ins.id, facility_id: ins.facility_id, checklist_id: ins.checklist_id, version: ins.version,
    inspection_date: ins.inspection_date, status: ins.status, revision: 0, server: {}, cleared: {},
    answers: {}, conflicts: {}, review: null, photos: [],
  };
  return incorporate(rec, ins);
}

/** @param {any} ins @param {Record<string, any>} [ack] */
async function receive(ins, ack) {
  if (!ins || !ins.id || !ins.answers) return;
  const rec = await getRec(ins.id);
  if (rec) await incorporate(rec, ins, ack);
  else if (ins.status !== 'discarded') await adopt(ins);
}

// ---- draining the outbox

let timer = 0;
let backoff = 0;
let again = false;

/** Drains soon (now, unless a backoff is running). */
export function kick() {
  if (timer) return;
  timer = setTimeout(() => { timer = 0; drain(); }, 0);
}

/** Whether a response status is worth retrying: the server or the path to it had trouble. @param {number} s */
function retryable(s) { return s === 408 || s === 425 || s === 429 || s >= 500; }

/** @param {string} field e.g. answers[signage.exterior_sign].value */
function fieldKey(field) {
  const m = /^answers\[("?)(.+?)\1\]/.exec(field || '');
  return m ? m[2] : '';
}

/** @param {Entry} e @param {{status: number, body: any}} r */
async function block(e, r) {
  const p = r.body || {};
  e.error = { status: r.status, title: p.title || `HTTP ${r.status}`, detail: p.detail, fields: (p.errors || []).map((/** @type {any} */ x) => x.field) };
  await idb.put('outbox', e);
}

/**
 * Sends one entry. Returns true when it is done (removed), false when the
 * drain must stop (blocked or to be retried later).
 * @param {Entry} e
 */
async function send(e) {
  const id = encodeURIComponent(e.inspection);
  if (e.kind === 'create') {
    const r = await api.request('PUT', `/v1/inspections/${id}`, { json: e.body });
    if (retryable(r.status)) return false;
    if (r.status !== 200 && r.status !== 201) { await block(e, r); return false; }
    await receive(r.body);
  } else if (e.kind === 'photo') {
    const blob = await photoBlob(/** @type {string} */ (e.sha));
    if (blob) {
      const r = await api.request('POST', `/v1/inspections/${id}/photos?item=${encodeURIComponent(e.item || '')}`, { blob });
      if (retryable(r.status)) return false;
      if (r.status !== 200 && r.status !== 201) { await block(e, r); return false; }
    }
  } else if (e.kind === 'save') {
    const rec = await getRec(e.inspection);
    if (!rec) { await idb.del('outbox', /** @type {number} */ (e.seq)); return true; }
    if (!e.sent) {
      // The body is fixed at the first attempt: a retry must repeat it byte
      // for byte under the same key, or the server refuses it (422).
      const fixed = await serial(async () => {
        const cur = /** @type {Entry | undefined} */ (await idb.get('outbox', /** @type {number} */ (e.seq)));
        if (cur && !cur.sent) {
          cur.sent = true;
          cur.base = rec.revision;
          await idb.put('outbox', cur);
        }
        return cur;
      });
      if (!fixed) return true;
      e = fixed;
    }
    if (Object.keys(e.answers || {}).length) {
      const r = await api.request('PATCH', `/v1/inspections/${id}`, {
        json: { base_revision: e.base, answers: e.answers }, headers: { 'Idempotency-Key': e.key },
      });
      if (retryable(r.status)) return false;
      if (r.status === 409 && r.body && r.body.code === 'revision_conflict' && r.body.current) {
        return conflicted(e, rec, r.body);
      }
      if (r.status !== 200 && r.status !== 204) { await block(e, r); return false; }
      let ins = r.body;
      if (!ins || !ins.answers) { // a minimal response: read the inspection
        const g = await api.request('GET', `/v1/inspections/${id}`);
        ins = g.status === 200 ? g.body : null;
      }
      if (ins) await receive(ins, e.answers);
    }
  } else if (e.kind === 'action') {
    const r = await api.request('POST', `/v1/inspections/${id}/${e.action}`, { json: {}, headers: { 'Idempotency-Key': e.key } });
    if (retryable(r.status)) return false;
    if (r.status !== 200) { await block(e, r); return false; }
    await receive(r.body);
  }
  await idb.del('outbox', /** @type {number} */ (e.seq));
  return true;
}

/**
 * A 409 on a save: merge the server's copy, hold the conflicting items for
 * the inspector, and send the rest again as a new request.
 * @param {Entry} e @param {Rec} rec @param {any} problem
 */
async function conflicted(e, rec, problem) {
  const keys = (problem.errors || []).map((/** @type {any} */ x) => fieldKey(x.field)).filter(Boolean);
  const answers = /** @type {Record<string, any>} */ (e.answers);
  if (!keys.length || keys.some((/** @type {string} */ k) => !(k in answers))) {
    await block(e, { status: 409, body: problem });
    return false;
  }
  await incorporate(rec, problem.current);
  const fresh = await getRec(rec.id);
  if (!fresh) return false;
  for (const k of keys) {
    if (!fresh.conflicts[k]) fresh.conflicts[k] = { server: toAnswer(problem.current.answers[k]), device: fresh.answers[k] || null };
    delete answers[k];
  }
  await putRec(fresh);
  await serial(async () => {
    if (Object.keys(answers).length) {
      e.key = uuid();
      e.sent = false;
      delete e.base;
      await idb.put('outbox', e);
    } else {
      await idb.del('outbox', /** @type {number} */ (e.seq));
    }
  });
  return true;
}

/** Sends the outbox in order until it is empty, blocked, or the network fails. */
export async function drain() {
  if (state.needLogin) return;
  if (state.draining) { again = true; return; } // a write queued mid-drain: go round once more
  state.draining = true;
  again = false;
  let retry = false;
  try {
    for (;;) {
      const entries = await outbox();
      const e = entries[0];
      if (!e || e.error) break;
      if (!(await send(e))) { retry = !(await idb.get('outbox', /** @type {number} */ (e.seq)))?.error; break; }
      changed();
    }
    if (!retry) { backoff = 0; await pull(); }
    setOnline(true);
  } catch (err) {
    retry = true;
    if (err instanceof api.NeedLogin) { state.needLogin = true; retry = false; }
    else if (err instanceof api.Offline) setOnline(false);
    else console.error(err);
  } finally {
    state.draining = false;
    await countWaiting();
    changed();
  }
  if (retry && !timer) {
    backoff = Math.min(backoff ? backoff * 2 : 1000, 30000);
    timer = setTimeout(() => { timer = 0; drain(); }, backoff);
  } else if (again) {
    kick();
  }
}

/** @param {boolean} on */
function setOnline(on) {
  if (state.online !== on) { state.online = on; changed(); }
}

/** Retries at once when the browser says the network is back. */
export function networkBack() {
  setOnline(true);
  if (timer) { clearTimeout(timer); timer = 0; }
  backoff = 0;
  kick();
}

/** Signed in again after the session ended: carry on where the outbox stopped. */
export function signedInAgain() {
  state.needLogin = false;
  networkBack();
}

// ---- sync

/** Brings in what changed on the server: inspections (returned, approved, saved elsewhere), facilities, manifest. */
export async function pull() {
  let cursor = await idb.get('kv', 'cursor');
  for (let i = 0; i < 50; i++) {
    const r = await api.request('GET', `/v1/sync${cursor ? `?since=${encodeURIComponent(cursor)}` : ''}`);
    if (r.status !== 200) throw new api.HttpError(r.status, r.body);
    const s = r.body;
    for (const ins of s.inspections || []) await receive(ins);
    if (s.facilities && s.facilities.length) {
      const fac = (await idb.get('kv', 'facilities')) || {};
      for (const f of s.facilities) fac[f.id] = f;
      await idb.put('kv', fac, 'facilities');
    }
    if (s.checklists && s.checklists.manifest) {
      await idb.put('kv', s.checklists.manifest, 'manifest');
      for (const m of Object.values(s.checklists.manifest.facilities || {})) {
        if (m) await content(/** @type {any} */ (m).checklist_id, /** @type {any} */ (m).version);
      }
    }
    if (s.assignments) await idb.put('kv', s.assignments, 'assignments');
    cursor = s.cursor;
    await idb.put('kv', cursor, 'cursor');
    if (!s.has_more) break;
  }
  // Versions pinned by inspections on the device are needed offline too.
  for (const rec of await allRecs()) await content(rec.checklist_id, rec.version).catch(() => {});
  changed();
}

/** Sign-out on a shared tablet: end the session and wipe everything local. */
export async function wipe() {
  await api.logout();
  await idb.wipe();
  recs.clear();
  await caches.delete(DATA_CACHE);
  contents.clear();
}
