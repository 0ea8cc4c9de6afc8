// @ts-check
// The server's answer rules (checklist/answer.go), mirrored for the
// device: which items apply (show-if), what an answer scores as, and what
// must still be done before submit. Pure functions; test/rules.test.js
// checks them against cases the Go test computes with the server's code.

/** @typedef {{ja: string, en?: string}} Text */
/** @typedef {{key: string, label: Text, exclusive?: boolean}} Option */
/**
 * @typedef {{key: string, text: Text, guidance?: Text, type: string, allow_na?: boolean,
 *   scale?: Text[], options?: Option[], number?: {unit?: Text, min?: number, max?: number, integer?: boolean},
 *   required?: boolean, points?: number,
 *   fail_rule?: {answer?: string, at_or_below?: number, any_of?: string[], min?: number, max?: number},
 *   failed_needs_comment?: boolean, failed_needs_photo?: boolean,
 *   show_if?: {item: string, equals?: string, in?: string[]}}} Item
 */
/** @typedef {{key: string, title: Text, items: Item[]}} Section */
/** @typedef {{title: Text, description?: Text, sections: Section[]}} Content */
/** @typedef {{value?: any, comment?: string, photos?: string[]}} Answer */
/** @typedef {Record<string, Answer>} Answers */
/** @typedef {{key: string, code: string}} Problem */

export const MAX_PHOTOS = 10;
export const MAX_TEXT = 2000;

/** @param {any} v */
export function isEmpty(v) {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

/** @param {Answer | undefined} a */
function blank(a) {
  return !a || (isEmpty(a.value) && !a.comment && !(a.photos && a.photos.length));
}

/** @param {any} v @returns {string | undefined} */
function yesNo(v) {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return v;
  return undefined;
}

/** @param {string} s */
export function textOK(s) {
  // Control characters other than tab and newline are refused (as the server does).
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(s) && [...s].length <= MAX_TEXT;
}

/** @param {string} id */
function photoIdOK(id) {
  return typeof id === 'string' && id.length > 0 && id.length <= 128 && /^[A-Za-z0-9._:-]+$/.test(id);
}

/** @param {any} ids */
function photoIdsOK(ids) {
  return Array.isArray(ids) && ids.length <= MAX_PHOTOS && ids.every(photoIdOK) && new Set(ids).size === ids.length;
}

/**
 * Whether v is an acceptable value for it (an empty value is).
 * @param {Item} it @param {any} v
 */
export function valueOK(it, v) {
  if (isEmpty(v)) return true;
  switch (it.type) {
    case 'yes_no': {
      const s = yesNo(v);
      return s === 'yes' || s === 'no' || (s === 'na' && !!it.allow_na);
    }
    case 'rating': {
      const k = (it.scale || []).length;
      return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= k;
    }
    case 'single_choice':
      return typeof v === 'string' && (it.options || []).some((o) => o.key === v);
    case 'multi_choice': {
      if (!Array.isArray(v)) return false;
      const opts = it.options || [];
      const seen = new Set();
      for (const key of v) {
        const o = opts.find((o) => o.key === key);
        if (!o || seen.has(key) || (o.exclusive && v.length > 1)) return false;
        seen.add(key);
      }
      return true;
    }
    case 'number': {
      const n = it.number || {};
      return typeof v === 'number' && Number.isFinite(v) && (!n.integer || Number.isInteger(v)) &&
        !(n.min !== undefined && v < n.min) && !(n.max !== undefined && v > n.max);
    }
    case 'text':
      return typeof v === 'string' && textOK(v);
    case 'photo':
      return photoIdsOK(v);
  }
  return false;
}

/**
 * Whether a is acceptable as a whole: value, comment and photos.
 * @param {Item} it @param {Answer} a
 */
export function answerOK(it, a) {
  return valueOK(it, a.value) && textOK(a.comment || '') && (a.photos === undefined || photoIdsOK(a.photos));
}

/**
 * What an answer counts as: answered, failed, N/A (Item.Evaluate).
 * @param {Item} it @param {Answer | undefined} a
 */
export function evaluate(it, a) {
  const v = a ? a.value : undefined;
  if (isEmpty(v) || !valueOK(it, v)) return { answered: false, failed: false, na: false };
  const f = it.fail_rule || {};
  let failed = false;
  switch (it.type) {
    case 'yes_no': {
      const s = yesNo(v);
      if (s === 'na') return { answered: true, failed: false, na: true };
      failed = s === f.answer;
      break;
    }
    case 'rating':
      failed = (f.at_or_below || 0) > 0 && v <= (f.at_or_below || 0);
      break;
    case 'single_choice':
      failed = (f.any_of || []).includes(v);
      break;
    case 'multi_choice':
      failed = v.some((/** @type {string} */ k) => (f.any_of || []).includes(k));
      break;
    case 'number':
      failed = (f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max);
      break;
  }
  return { answered: true, failed, na: false };
}

/**
 * For every item key, whether the item applies given answers (Content.Visible):
 * an item with show-if applies when its earlier target applies and holds an
 * acceptable answer that matches.
 * @param {Content} c @param {Answers} answers @returns {Record<string, boolean>}
 */
export function visible(c, answers) {
  /** @type {Record<string, boolean>} */
  const vis = {};
  /** @type {Record<string, Item>} */
  const earlier = {};
  for (const s of c.sections) {
    for (const it of s.items) {
      if (it.key in vis) continue;
      vis[it.key] = !it.show_if || showIfMatches(it.show_if, earlier, vis, answers);
      earlier[it.key] = it;
    }
  }
  return vis;
}

/**
 * @param {{item: string, equals?: string, in?: string[]}} s @param {Record<string, Item>} earlier
 * @param {Record<string, boolean>} vis @param {Answers} answers
 */
function showIfMatches(s, earlier, vis, answers) {
  const target = earlier[s.item];
  if (!target || !vis[s.item]) return false;
  const v = answers[s.item] ? answers[s.item].value : undefined;
  if (isEmpty(v) || !valueOK(target, v)) return false;
  const values = s.equals ? [s.equals, ...(s.in || [])] : s.in || [];
  switch (target.type) {
    case 'yes_no':
      return values.includes(/** @type {string} */ (yesNo(v)));
    case 'rating':
      return values.includes(String(Math.trunc(v)));
    case 'single_choice':
      return values.includes(v);
    case 'multi_choice':
      return v.some((/** @type {string} */ k) => values.includes(k));
  }
  return false;
}

/**
 * What stands between answers and a submit the server accepts
 * (Content.CheckSubmit), in checklist order: codes "hidden", "invalid",
 * "required", "comment_required", "photo_required", "unknown_item".
 * @param {Content} c @param {Answers} answers @returns {Problem[]}
 */
export function submitProblems(c, answers) {
  const vis = visible(c, answers);
  /** @type {Problem[]} */
  const out = [];
  const known = new Set();
  for (const s of c.sections) {
    for (const it of s.items) {
      if (known.has(it.key)) continue;
      known.add(it.key);
      const a = answers[it.key];
      if (!vis[it.key]) {
        if (!blank(a)) out.push({ key: it.key, code: 'hidden' });
        continue;
      }
      if (a && !answerOK(it, a)) {
        out.push({ key: it.key, code: 'invalid' });
        continue;
      }
      if (it.required && isEmpty(a && a.value)) {
        out.push({ key: it.key, code: 'required' });
        continue;
      }
      if (evaluate(it, a).failed) {
        if (it.failed_needs_comment && !(a && a.comment && a.comment.trim())) out.push({ key: it.key, code: 'comment_required' });
        if (it.failed_needs_photo && !(a && a.photos && a.photos.length)) out.push({ key: it.key, code: 'photo_required' });
      }
    }
  }
  for (const k of Object.keys(answers).sort()) if (!known.has(k)) out.push({ key: k, code: 'unknown_item' });
  return out;
}

/**
 * Progress per section: items that apply, and how many of them are answered.
 * @param {Content} c @param {Answers} answers @param {Record<string, boolean>} [vis]
 * @returns {{key: string, answered: number, total: number}[]}
 */
export function progress(c, answers, vis = visible(c, answers)) {
  return c.sections.map((s) => {
    let answered = 0, total = 0;
    for (const it of s.items) {
      if (!vis[it.key]) continue;
      total++;
      if (!isEmpty(answers[it.key] && answers[it.key].value)) answered++;
    }
    return { key: s.key, answered, total };
  });
}

/**
 * Whether two answers mean the same (the server's AnswersEqual after
 * normalizing): yes/no booleans as strings, multi-choice order ignored.
 * @param {Answer | null | undefined} a @param {Answer | null | undefined} b
 */
export function sameAnswer(a, b) {
  if (blank(a || undefined) && blank(b || undefined)) return true;
  if (!a || !b) return false;
  const norm = (/** @type {any} */ v) => {
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (Array.isArray(v)) return JSON.stringify([...v].sort());
    return isEmpty(v) ? null : v;
  };
  return norm(a.value) === norm(b.value) && (a.comment || '') === (b.comment || '') &&
    JSON.stringify(a.photos || []) === JSON.stringify(b.photos || []);
}
