// @ts-check
// A small promise wrapper over IndexedDB: the device's drafts, outbox,
// queued photos and session live here and survive reloads and restarts.

const NAME = 'tenken';
const STORES = ['kv', 'inspections', 'outbox', 'photos'];

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

/** @returns {Promise<IDBDatabase>} */
function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore('kv');
        db.createObjectStore('inspections', { keyPath: 'id' });
        db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        db.createObjectStore('photos', { keyPath: 'sha' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return opening;
}

/**
 * @template T
 * @param {IDBRequest<T>} req @returns {Promise<T>}
 */
function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** @param {string} store @param {IDBTransactionMode} mode */
async function tx(store, mode) {
  return (await open()).transaction(store, mode).objectStore(store);
}

/** @param {string} store @param {IDBValidKey} key @returns {Promise<any>} */
export async function get(store, key) {
  return done((await tx(store, 'readonly')).get(key));
}

/** @param {string} store @param {any} value @param {IDBValidKey} [key] @returns {Promise<IDBValidKey>} */
export async function put(store, value, key) {
  return done((await tx(store, 'readwrite')).put(value, key));
}

/** @param {string} store @param {IDBValidKey} key */
export async function del(store, key) {
  await done((await tx(store, 'readwrite')).delete(key));
}

/** @param {string} store @returns {Promise<any[]>} */
export async function all(store) {
  return done((await tx(store, 'readonly')).getAll());
}

/** Empties every store: sign-out on a shared tablet. */
export async function wipe() {
  const db = await open();
  const t = db.transaction(STORES, 'readwrite');
  for (const s of STORES) t.objectStore(s).clear();
  await new Promise((resolve, reject) => {
    t.oncomplete = () => resolve(undefined);
    t.onerror = () => reject(t.error);
  });
}
