// @ts-check
// The tablet app's screens: sign-in, the inspector's facilities and
// inspections, and the checklist. Everything the inspector does is kept
// on the device first (store.js) and sent when the network allows.
import * as api from './api.js';
import * as idb from './idb.js';
import * as store from './store.js';
import { t, text, setLang, getLang } from './i18n.js';
import { visible, progress, submitProblems, evaluate, isEmpty } from './rules.js';
import { downscale } from './photo.js';

/** @typedef {import('./rules.js').Item} Item */
/** @typedef {import('./rules.js').Content} Content */
/** @typedef {import('./store.js').Rec} Rec */

const main = /** @type {HTMLElement} */ (document.getElementById('main'));

/**
 * Makes an element: h('p', {class: 'x'}, 'text', child…). Attributes
 * starting with "on" become listeners; false/null ones are left out.
 * @param {string} tag @param {Record<string, any>} [attrs] @param {...any} kids @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && k !== 'list' && typeof v !== 'string') /** @type {any} */ (el)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

// ---- header: network, queue, language, sign-out

function renderBar() {
  const net = /** @type {HTMLElement} */ (document.getElementById('net'));
  net.textContent = store.state.online ? t('online') : t('offline');
  net.className = store.state.online ? 'pill on' : 'pill off';
  const q = /** @type {HTMLElement} */ (document.getElementById('queue'));
  q.textContent = store.state.waiting ? t('waiting', { n: store.state.waiting }) : t('allSent');
  q.className = store.state.waiting ? 'pill wait' : 'pill';
  q.dataset.n = String(store.state.waiting);
  /** @type {HTMLElement} */ (document.getElementById('lang')).textContent = t('lang');
  const so = /** @type {HTMLButtonElement} */ (document.getElementById('signout'));
  so.textContent = t('signOut');
  so.hidden = !api.currentSession();
  /** @type {HTMLElement} */ (document.getElementById('title')).textContent = t('app');
}

// ---- routing

/** @type {{id: string, rec: Rec, content: Content, items: Map<string, Item>, sig: string} | null} */
let screen = null;

async function route() {
  screen = null;
  renderBar();
  if (!api.currentSession()) return renderLogin();
  const m = /^#\/i\/([0-9a-f-]+)$/.exec(location.hash);
  if (m) return renderInspection(m[1]);
  return renderHome();
}

/** @param {string} hash */
function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

// ---- sign-in

function renderLogin() {
  const err = h('p', { class: 'error', role: 'alert' });
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card login', onsubmit: async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      await api.login(/** @type {HTMLInputElement} */ (user).value, /** @type {HTMLInputElement} */ (pass).value);
      await store.pull();
      go('#/');
    } catch (e) {
      err.textContent = e instanceof api.Offline ? t('needNetwork') : t('signInFailed');
    }
  } },
  h('h2', {}, t('signIn')),
  h('label', { for: 'username' }, t('username')), user,
  h('label', { for: 'password' }, t('password')), pass,
  h('button', { type: 'submit', class: 'primary' }, t('signIn')), err);
  main.replaceChildren(form);
}

/** The session ended while work is on the device: ask for the password only. */
function renderRelogin() {
  const s = api.currentSession();
  if (!s || document.getElementById('relogin')) return;
  const err = h('p', { class: 'error', role: 'alert' });
  const pass = h('input', { id: 'repass', type: 'password', autocomplete: 'current-password', required: true });
  const box = h('form', { id: 'relogin', class: 'card notice', onsubmit: async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    try {
      await api.login(s.username, /** @type {HTMLInputElement} */ (pass).value);
      box.remove();
      store.signedInAgain();
    } catch (e) {
      err.textContent = e instanceof api.Offline ? t('needNetwork') : t('signInFailed');
    }
  } }, h('p', {}, t('sessionExpired')),
  // For password managers: whose password this is.
  h('input', { type: 'text', name: 'username', autocomplete: 'username', value: s.username, hidden: true, readonly: true }),
  h('label', { for: 'repass' }, `${t('password')} (${s.username})`), pass,
  h('button', { type: 'submit', class: 'primary' }, t('signIn')), err);
  main.prepend(box);
}

// ---- home

async function renderHome() {
  const manifest = (await idb.get('kv', 'manifest')) || {};
  const facilities = (await idb.get('kv', 'facilities')) || {};
  const recs = (await store.allRecs()).filter((r) => r.status !== 'discarded')
    .sort((a, b) => b.inspection_date.localeCompare(a.inspection_date));
  const facName = (/** @type {string} */ id) => (facilities[id] ? text(facilities[id].name) : id);
  const fac = Object.entries(manifest.facilities || {}).map(([id, entry]) => h('li', { class: 'row' },
    h('span', { class: 'grow' }, facName(id)),
    entry ? h('button', { type: 'button', class: 'primary', 'data-facility': id, onclick: async () => {
      const rec = await store.startInspection(id, /** @type {any} */ (entry));
      go(`#/i/${rec.id}`);
    } }, t('start')) : h('span', {}, t('noChecklist'))));
  const list = recs.map((r) => h('li', {},
    h('a', { class: 'row link', href: `#/i/${r.id}`, 'data-inspection': r.id },
      h('span', { class: 'grow' }, `${facName(r.facility_id)} · ${r.inspection_date}`),
      Object.keys(r.conflicts).length ? h('span', { class: 'pill off' }, t('conflictsBanner', { n: Object.keys(r.conflicts).length })) : null,
      h('span', { class: `pill st-${r.status}` }, t(`status_${r.status}`)))));
  const todo = await assignmentList(/** @type {any} */ (manifest), recs, facName);
  main.replaceChildren(
    todo,
    h('section', { class: 'card' }, h('h2', {}, t('facilities')), h('ul', { class: 'list' }, fac)),
    h('section', { class: 'card' }, h('h2', {}, t('inspections')),
      list.length ? h('ul', { class: 'list' }, list) : h('p', {}, t('nothingYet'))));
  if (store.state.needLogin) renderRelogin();
}

/** How far an inspection has come, as the server ranks assignments. */
const PROGRESS_RANK = /** @type {Record<string, number>} */ ({ not_started: 0, draft: 1, returned: 2, submitted: 3, approved: 4 });

/**
 * The inspector's assignments of the year ("to do this year", issue 14),
 * earliest due date first as the sync sends them, or nothing when there
 * are none. Each shows its facility, due date and how far it has come,
 * counting inspections on this device the server has not seen yet, and
 * overdue once its due date has passed in Tokyo unless approved. Tapping
 * one opens the facility's latest inspection of that fiscal year on this
 * device, or starts one.
 * @param {{facilities?: Record<string, {checklist_id: string, version: number} | null>}} manifest
 * @param {Rec[]} recs newest first
 * @param {(id: string) => string} facName
 */
async function assignmentList(manifest, recs, facName) {
  /** @type {{fiscal_year: number, facility: {id: string, name?: any}, due_date: string, progress: string, overdue: boolean}[]} */
  const assignments = (await idb.get('kv', 'assignments')) || [];
  if (!assignments.length) return '';
  const today = store.today();
  const rows = assignments.map((a) => {
    const id = a.facility.id;
    const inYear = recs.filter((r) => r.facility_id === id &&
      r.inspection_date >= `${a.fiscal_year}-04-01` && r.inspection_date <= `${a.fiscal_year + 1}-03-31`);
    let progress = a.progress in PROGRESS_RANK ? a.progress : 'not_started';
    for (const r of inYear) if ((PROGRESS_RANK[r.status] ?? -1) > PROGRESS_RANK[progress]) progress = r.status;
    const overdue = progress !== 'approved' && (a.overdue || a.due_date < today);
    const entry = manifest.facilities && manifest.facilities[id];
    const open = inYear[0]
      ? () => go(`#/i/${inYear[0].id}`)
      : entry ? async (/** @type {Event} */ ev) => {
        /** @type {HTMLButtonElement} */ (ev.currentTarget).disabled = true; // one tap, one inspection
        go(`#/i/${(await store.startInspection(id, entry)).id}`);
      } : null;
    const name = a.facility.name ? text(a.facility.name) : facName(id);
    const kids = [
      h('span', { class: 'grow name' }, name),
      h('span', { class: 'due' }, `${t('due')} `, h('time', { datetime: a.due_date }, longDate(a.due_date))),
      h('span', { class: `pill st-${progress}` }, t(`status_${progress}`)),
      overdue ? h('span', { class: 'pill st-overdue' }, t('overdue')) : null,
    ];
    const attrs = { class: `row assign${overdue ? ' overdue' : ''}`, 'data-assignment': id, 'data-due': a.due_date, 'data-progress': progress };
    return h('li', {}, open ? h('button', { type: 'button', ...attrs, onclick: open }, kids) : h('div', attrs, kids));
  });
  return h('section', { class: 'card', id: 'todo', 'aria-labelledby': 'todo-h' },
    h('h2', { id: 'todo-h' }, t('todo')), h('ul', { class: 'list' }, rows));
}

/** A date (YYYY-MM-DD) written out in the interface's language. @param {string} d */
function longDate(d) {
  const at = new Date(`${d}T00:00:00Z`);
  if (Number.isNaN(at.getTime())) return d;
  return new Intl.DateTimeFormat(getLang() === 'en' ? 'en-GB' : 'ja-JP',
    { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' }).format(at);
}

// ---- the checklist

/** @param {string} id */
async function renderInspection(id) {
  const rec = await store.getRec(id);
  if (!rec) return go('#/');
  let content;
  try {
    content = await store.content(rec.checklist_id, rec.version);
  } catch {
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('noChecklist')));
    return;
  }
  /** @type {Map<string, Item>} */
  const items = new Map();
  for (const s of content.sections) for (const it of s.items) items.set(it.key, it);
  screen = { id, rec, content, items, sig: signature(rec) };
  const facilities = (await idb.get('kv', 'facilities')) || {};
  const ro = rec.status === 'approved' || rec.status === 'submitted';
  const vis = visible(content, rec.answers);
  const prog = progress(content, rec.answers, vis);
  const nav = h('nav', { class: 'sections', 'aria-label': t('inspections') }, content.sections.map((s, i) =>
    h('button', { type: 'button', class: 'chip', 'data-nav': s.key, onclick: () => document.getElementById(`sec-${s.key}`)?.scrollIntoView() },
      text(s.title), ' ', h('span', { class: 'count', id: `nav-${s.key}` }, t('answeredOf', { a: prog[i].answered, t: prog[i].total })))));
  const sections = content.sections.map((s, i) => h('section', { class: 'card sec', id: `sec-${s.key}`, 'aria-labelledby': `sh-${s.key}` },
    h('h3', { id: `sh-${s.key}` }, text(s.title), ' ', h('span', { class: 'count', id: `prog-${s.key}` }, t('answeredOf', { a: prog[i].answered, t: prog[i].total }))),
    s.items.map((it) => itemView(it, rec, vis[it.key], ro))));
  const f = facilities[rec.facility_id];
  main.replaceChildren(
    h('div', { class: 'head' }, h('a', { href: '#/', class: 'btn' }, t('back')),
      h('h2', {}, `${f ? text(f.name) : rec.facility_id}`),
      h('span', {}, `${t('date')} ${rec.inspection_date}`),
      h('span', { id: 'status', class: `pill st-${rec.status}` }, t(`status_${rec.status}`))),
    h('div', { id: 'banners' }),
    nav, ...sections,
    h('section', { class: 'card', id: 'finish', 'aria-labelledby': 'finish-h' }, h('h3', { id: 'finish-h' }, t('remaining')),
      h('ul', { id: 'remaining', class: 'remaining' }),
      h('button', { type: 'button', class: 'primary', id: 'submit', onclick: submit }, rec.status === 'returned' ? t('resubmit') : t('submit'))));
  refreshBanners();
  refreshRemaining();
  performance.mark('checklist-interactive');
}

/** What, when it changes, redraws the whole checklist: status and review. @param {Rec} rec */
function signature(rec) {
  return rec.status + JSON.stringify(rec.review);
}

/**
 * One item: its question, control, comment, photos, the reviewer's
 * comment and any conflict.
 * @param {Item} it @param {Rec} rec @param {boolean} shown @param {boolean} ro
 */
function itemView(it, rec, shown, ro) {
  const k = it.key;
  const a = rec.answers[k] || {};
  const name = `v-${k}`;
  /** @type {any[]} */
  let control = [];
  /** @param {string} value @param {string} label @param {string} [type] */
  const choice = (value, label, type = 'radio') => h('label', { class: 'opt' },
    h('input', { type, name, value, disabled: ro }), h('span', {}, label));
  switch (it.type) {
    case 'yes_no':
      control = [choice('yes', t('yes')), choice('no', t('no')), it.allow_na ? choice('na', t('na')) : null];
      break;
    case 'rating':
      control = (it.scale || []).map((s, i) => choice(String(i + 1), `${i + 1} ${text(s)}`));
      break;
    case 'single_choice':
      control = (it.options || []).map((o) => choice(o.key, text(o.label)));
      break;
    case 'multi_choice':
      control = (it.options || []).map((o) => choice(o.key, text(o.label), 'checkbox'));
      break;
    case 'number': {
      const n = it.number || {};
      control = [h('label', { class: 'num' }, h('input', { type: 'number', name, inputmode: n.integer ? 'numeric' : 'decimal',
        min: n.min ?? false, max: n.max ?? false, step: n.integer ? '1' : 'any', disabled: ro, 'aria-labelledby': `q-${k}` }),
      h('span', {}, text(n.unit)))];
      break;
    }
    case 'text':
      control = [h('textarea', { name, rows: 3, disabled: ro, 'aria-labelledby': `q-${k}` })];
      break;
  }
  const photoAllowed = it.type === 'photo' || it.failed_needs_photo;
  const review = rec.review && rec.review.item_comments && rec.review.item_comments[k];
  const el = h('fieldset', { class: 'item', id: `item-${k}`, 'data-key': k, 'data-type': it.type, hidden: !shown },
    h('legend', { id: `q-${k}` }, text(it.text), it.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : ''),
    it.guidance ? h('details', {}, h('summary', {}, t('guidance')), h('p', {}, text(it.guidance))) : '',
    review ? h('p', { class: 'review-item', 'data-review': k }, h('strong', {}, `${t('reviewItem')}: `), review) : '',
    h('div', { class: 'opts' }, control),
    h('div', { class: 'conflict', id: `conflict-${k}` }),
    h('label', { class: 'small', for: `c-${k}` }, t('comment')),
    h('textarea', { id: `c-${k}`, class: 'comment', rows: 1, disabled: ro }),
    photoAllowed ? h('div', { class: 'photos' },
      h('div', { class: 'thumbs', id: `thumbs-${k}` }),
      ro ? '' : h('label', { class: 'btn' }, t('addPhoto'),
        h('input', { type: 'file', accept: 'image/*', capture: 'environment', class: 'sr-only', 'data-photo': k }))) : '');
  fill(el, it, a);
  return el;
}

/**
 * Shows answer a in an item's controls (not where the inspector is typing).
 * @param {HTMLElement} el @param {Item} it @param {import('./rules.js').Answer} a
 */
function fill(el, it, a) {
  const v = a.value;
  for (const inp of el.querySelectorAll('.opts input, .opts textarea')) {
    const i = /** @type {HTMLInputElement} */ (inp);
    if (i === document.activeElement) continue;
    if (i.type === 'radio') i.checked = v !== undefined && v !== null && String(v === true ? 'yes' : v === false ? 'no' : v) === i.value;
    else if (i.type === 'checkbox') i.checked = Array.isArray(v) && v.includes(i.value);
    else i.value = isEmpty(v) ? '' : String(v);
  }
  const c = /** @type {HTMLTextAreaElement} */ (el.querySelector('textarea.comment'));
  if (c !== document.activeElement) c.value = a.comment || '';
  el.classList.toggle('failed', evaluate(it, a).failed);
  const thumbs = el.querySelector('.thumbs');
  if (thumbs) {
    const ids = [...(it.type === 'photo' && Array.isArray(v) ? v : []), ...(a.photos || [])];
    if (thumbs.getAttribute('data-ids') !== ids.join(',')) {
      thumbs.setAttribute('data-ids', ids.join(','));
      thumbs.replaceChildren(...ids.map((sha) => thumb(sha)));
    }
  }
}

/** @param {string} sha */
function thumb(sha) {
  const img = /** @type {HTMLImageElement} */ (h('img', { alt: `${t('photos')} ${sha.slice(0, 8)}`, class: 'thumb', 'data-sha': sha }));
  // Photos taken here are on the device; others come from the server,
  // which needs the bearer token an <img> cannot send.
  store.photoBlob(sha)
    .then(async (b) => b || (await api.request('GET', `/v1/photos/${sha}`, { asBlob: true })).body)
    .then((b) => { if (b instanceof Blob) img.src = URL.createObjectURL(b); })
    .catch(() => {});
  return img;
}

/** Reads an item's answer from its controls. @param {HTMLElement} el @param {Item} it @param {Rec} rec */
function readItem(el, it, rec) {
  const prev = rec.answers[it.key] || {};
  /** @type {any} */
  let value = null;
  const inputs = /** @type {HTMLInputElement[]} */ ([...el.querySelectorAll('.opts input, .opts textarea')]);
  switch (it.type) {
    case 'yes_no': case 'single_choice':
      value = inputs.find((i) => i.checked)?.value ?? null;
      break;
    case 'rating': {
      const c = inputs.find((i) => i.checked);
      value = c ? Number(c.value) : null;
      break;
    }
    case 'multi_choice':
      value = inputs.filter((i) => i.checked).map((i) => i.value);
      break;
    case 'number':
      value = inputs[0].value === '' ? null : Number(inputs[0].value);
      break;
    case 'text':
      value = inputs[0].value;
      break;
    case 'photo':
      value = prev.value ?? null;
      break;
  }
  const comment = /** @type {HTMLTextAreaElement} */ (el.querySelector('textarea.comment')).value;
  /** @type {import('./rules.js').Answer} */
  const a = { value };
  if (comment) a.comment = comment;
  if (prev.photos && prev.photos.length) a.photos = prev.photos;
  return a;
}

/** Every change in the checklist lands here. @param {Event} ev */
function onChange(ev) {
  if (!screen) return;
  const target = /** @type {HTMLInputElement} */ (ev.target);
  const el = /** @type {HTMLElement | null} */ (target.closest('.item'));
  if (!el) return;
  const it = screen.items.get(/** @type {string} */ (el.dataset.key));
  if (!it) return;
  const { rec, content } = screen;
  if (target.dataset.photo) {
    const file = target.files && target.files[0];
    target.value = '';
    if (file) downscale(file).then((blob) => store.addPhoto(rec, content, it, blob)).then(() => { refreshItems(); refreshRemaining(); });
    return;
  }
  if (it.type === 'multi_choice' && target.type === 'checkbox' && target.checked) {
    // An exclusive option ("none") stands alone.
    const excl = new Set((it.options || []).filter((o) => o.exclusive).map((o) => o.key));
    for (const box of /** @type {NodeListOf<HTMLInputElement>} */ (el.querySelectorAll('input[type=checkbox]'))) {
      if (box !== target && (excl.has(target.value) || excl.has(box.value))) box.checked = false;
    }
  }
  store.setAnswer(rec, content, it.key, readItem(el, it, rec));
  refreshAfterAnswer(it);
  refreshRemaining();
  performance.measure('answer', { start: ev.timeStamp, end: performance.now() });
}

/**
 * After one answer: the item itself, the items whose show-if changed, and
 * the progress counts; nothing else is touched (an answer must stay well
 * under a frame of main-thread work).
 * @param {Item} changed
 */
function refreshAfterAnswer(changed) {
  if (!screen) return;
  const { rec, content } = screen;
  const vis = visible(content, rec.answers);
  for (const s of content.sections) {
    for (const it of s.items) {
      const el = /** @type {HTMLElement | null} */ (document.getElementById(`item-${it.key}`));
      if (!el) continue;
      if (el.hidden === !vis[it.key] && it !== changed) continue;
      el.hidden = !vis[it.key];
      fill(el, it, rec.answers[it.key] || {});
    }
  }
  refreshProgress(vis);
}

/** @param {Record<string, boolean>} vis */
function refreshProgress(vis) {
  if (!screen) return;
  progress(screen.content, screen.rec.answers, vis).forEach((p) => {
    const s = t('answeredOf', { a: p.answered, t: p.total });
    for (const id of [`prog-${p.key}`, `nav-${p.key}`]) {
      const n = document.getElementById(id);
      if (n && n.textContent !== s) n.textContent = s;
    }
  });
}

/** Brings every item's visibility, controls and the progress in line with the record. */
function refreshItems() {
  if (!screen) return;
  const { rec, content } = screen;
  const vis = visible(content, rec.answers);
  for (const s of content.sections) {
    for (const it of s.items) {
      const el = /** @type {HTMLElement | null} */ (document.getElementById(`item-${it.key}`));
      if (!el) continue;
      el.hidden = !vis[it.key];
      fill(el, it, rec.answers[it.key] || {});
      const box = /** @type {HTMLElement} */ (el.querySelector('.conflict'));
      const c = rec.conflicts[it.key];
      if (!c) { if (box.firstChild) box.replaceChildren(); continue; }
      if (box.dataset.sig === JSON.stringify(c)) continue;
      box.dataset.sig = JSON.stringify(c);
      box.replaceChildren(h('div', { class: 'notice', role: 'group', 'aria-label': t('conflict') },
        h('p', {}, h('strong', {}, t('conflict'))),
        h('dl', {}, h('dt', {}, t('serverValue')), h('dd', { class: 'sv' }, show(it, c.server)),
          h('dt', {}, t('deviceValue')), h('dd', { class: 'dv' }, show(it, c.device))),
        h('button', { type: 'button', class: 'keep-server', onclick: () => resolve(it.key, 'server') }, t('keepServer')),
        h('button', { type: 'button', class: 'keep-device primary', onclick: () => resolve(it.key, 'device') }, t('keepDevice'))));
    }
  }
  refreshProgress(vis);
}

/** An answer as words. @param {Item} it @param {import('./rules.js').Answer | null} a */
function show(it, a) {
  if (!a || isEmpty(a.value)) return t('notAnswered');
  const v = a.value;
  const label = (/** @type {string} */ key) => text((it.options || []).find((o) => o.key === key)?.label) || key;
  let s = String(v);
  if (it.type === 'yes_no') s = t(v === true ? 'yes' : v === false ? 'no' : v);
  else if (it.type === 'single_choice') s = label(v);
  else if (Array.isArray(v)) s = v.map(label).join(', ');
  return a.comment ? `${s} — ${a.comment}` : s;
}

/** @param {string} key @param {'server' | 'device'} which */
async function resolve(key, which) {
  if (!screen) return;
  if (which === 'server') await store.keepServer(screen.rec, key); else await store.keepDevice(screen.rec, key);
  refreshItems();
  refreshBanners();
  refreshRemaining();
}

function refreshRemaining() {
  if (!screen) return;
  const { rec, content } = screen;
  const ul = document.getElementById('remaining');
  const btn = /** @type {HTMLButtonElement | null} */ (document.getElementById('submit'));
  if (!ul || !btn) return;
  const problems = submitProblems(content, rec.answers);
  const editable = rec.status === 'draft' || rec.status === 'returned';
  btn.disabled = !editable || problems.length > 0 || Object.keys(rec.conflicts).length > 0;
  btn.hidden = !editable;
  const sig = JSON.stringify(problems) + getLang();
  if (ul.dataset.sig === sig) return;
  ul.dataset.sig = sig;
  // The first few are enough to act on; the rest follow as they are done.
  ul.replaceChildren(...(problems.length ? problems.slice(0, 20).map((p) => h('li', {},
    h('a', { href: `#/i/${rec.id}`, 'data-goto': p.key, onclick: (/** @type {Event} */ ev) => {
      ev.preventDefault();
      document.getElementById(`item-${p.key}`)?.scrollIntoView({ block: 'center' });
    } }, `${t(p.code)}: ${text(screen?.items.get(p.key)?.text).slice(0, 40)}`)))
    : [h('li', { class: 'ok' }, t('readyToSubmit'))]));
}

function refreshBanners() {
  if (!screen) return;
  const { rec } = screen;
  const box = document.getElementById('banners');
  if (!box) return;
  const st = document.getElementById('status');
  if (st) { st.textContent = t(`status_${rec.status}`); st.className = `pill st-${rec.status}`; }
  /** @type {HTMLElement[]} */
  const out = [];
  if (rec.status === 'approved') out.push(h('p', { class: 'notice' }, t('readOnly')));
  if (rec.status === 'submitted') out.push(h('p', { class: 'notice' }, t('submitted')));
  if (rec.review && rec.review.comment) out.push(h('div', { class: 'notice review', id: 'review' }, h('strong', {}, t('review')), h('p', {}, rec.review.comment)));
  const n = Object.keys(rec.conflicts).length;
  if (n) out.push(h('p', { class: 'notice warn', id: 'conflicts', role: 'alert' }, t('conflictsBanner', { n })));
  const b = store.state.blocked;
  if (b && b.inspection === rec.id && b.error) {
    out.push(h('div', { class: 'notice warn', role: 'alert', id: 'blocked' }, h('strong', {}, t('errorBlocked')),
      h('p', {}, `${b.error.status} ${b.error.title}${b.error.detail ? ` — ${b.error.detail}` : ''}`),
      h('button', { type: 'button', onclick: () => store.discardEntry(b) }, t('discardChange'))));
  }
  box.replaceChildren(...out);
}

async function submit() {
  if (!screen) return;
  const { rec, content } = screen;
  if (submitProblems(content, rec.answers).length) return;
  await store.queueAction(rec, rec.status === 'returned' ? 'resubmit' : 'submit');
  renderInspection(rec.id);
}

// ---- sign-out

async function signOut() {
  const n = await store.countWaiting();
  const doIt = async () => {
    await store.wipe();
    location.hash = '';
    route();
  };
  if (!n) return doIt();
  const dlg = /** @type {HTMLDialogElement} */ (h('dialog', { id: 'signout-dialog', 'aria-labelledby': 'so-msg' },
    h('p', { id: 'so-msg' }, t('signOutWarn', { n })),
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => dlg.close() }, t('cancel')),
      h('button', { type: 'button', class: 'danger', id: 'signout-confirm', onclick: () => { dlg.close(); doIt(); } }, t('signOutConfirm')))));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}

// ---- start

async function start() {
  setLang((await idb.get('kv', 'lang')) || 'ja');
  await api.loadSession();
  await store.countWaiting();
  main.addEventListener('change', onChange);
  /** @type {HTMLElement} */ (document.getElementById('lang')).addEventListener('click', async () => {
    setLang(getLang() === 'ja' ? 'en' : 'ja');
    await idb.put('kv', getLang(), 'lang');
    route();
  });
  /** @type {HTMLElement} */ (document.getElementById('signout')).addEventListener('click', signOut);
  window.addEventListener('hashchange', route);
  window.addEventListener('online', store.networkBack);
  window.addEventListener('offline', () => { store.state.online = false; renderBar(); });
  store.onChange(() => {
    renderBar();
    if (screen && screen.sig !== signature(screen.rec)) renderInspection(screen.id);
    else if (screen) { refreshItems(); refreshBanners(); refreshRemaining(); }
    if (store.state.needLogin) renderRelogin();
  });
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {});
  await route();
  if (api.currentSession()) store.kick();
}

start();
