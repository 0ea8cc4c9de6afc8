// @ts-check
/// <reference lib="webworker" />
// The tablet app's service worker: it keeps the app shell for offline
// starts, and answers checklist versions (immutable) from the data cache
// the app fills. The server replaces __BUILD__ with a hash of every shell
// file, so any change to the app installs a new worker and a new shell.

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const BUILD = '__BUILD__';
const SHELL_CACHE = `tenken-shell-${BUILD}`;
const DATA_CACHE = 'tenken-data';
const SHELL = ['./', 'index.html', 'app.css', 'main.js', 'api.js', 'idb.js', 'store.js', 'rules.js', 'i18n.js', 'photo.js',
  'manifest.webmanifest', 'icon.svg', 'icon-192.png', 'icon-512.png'];

sw.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(SHELL_CACHE).then((c) => c.addAll(SHELL.map((f) => new Request(f, { cache: 'reload' }))))
    .then(() => sw.skipWaiting()));
});

sw.addEventListener('activate', (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('tenken-shell-') && k !== SHELL_CACHE).map((k) => caches.delete(k))))
    .then(() => sw.clients.claim()));
});

sw.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (url.pathname.startsWith('/app/')) {
    // The shell: from the cache, so the app opens with no network.
    const name = req.mode === 'navigate' ? './' : req;
    ev.respondWith(caches.open(SHELL_CACHE).then((c) => c.match(name, { ignoreSearch: true })).then((hit) => hit || fetch(req)));
    return;
  }
  if (/^\/v1\/checklists\/[^/]+\/versions\/\d+$/.test(url.pathname)) {
    // Published versions never change: the cached copy is the copy.
    ev.respondWith(caches.open(DATA_CACHE).then((c) => c.match(req, { ignoreVary: true }).then((hit) => hit || fetch(req).then((res) => {
      if (res.ok) c.put(req, res.clone());
      return res;
    }))));
  }
});
