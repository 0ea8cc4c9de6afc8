// @ts-check
// Interface strings, Japanese first. Checklist texts carry their own
// {ja, en}; see text().

/** @type {Record<string, Record<string, string>>} */
const STRINGS = {
  ja: {
    app: '施設点検', signIn: 'サインイン', username: 'ユーザー名', password: 'パスワード',
    signInFailed: 'サインインできませんでした', needNetwork: '初回のサインインには通信が必要です',
    signOut: 'サインアウト', online: 'オンライン', offline: 'オフライン', waiting: '{n} 件の変更が未送信',
    allSent: 'すべて送信済み', facilities: '担当施設', inspections: '点検', start: '点検を開始',
    noChecklist: '適用されるチェックリストがありません', back: '一覧へ戻る', status_draft: '下書き',
    status_submitted: '提出済み', status_returned: '差し戻し', status_approved: '承認済み', status_discarded: '破棄',
    yes: 'はい', no: 'いいえ', na: '該当なし', comment: 'コメント', addPhoto: '写真を撮る・選ぶ',
    photos: '写真', remaining: '提出前に必要なこと', required: '未回答', comment_required: 'コメントが必要',
    photo_required: '写真が必要', invalid: '回答が不正', hidden: '非表示の項目に回答あり', unknown_item: '不明な項目',
    submit: '提出する', resubmit: '再提出する', readyToSubmit: '提出できます', submitted: '提出しました（送信待ちを含む）',
    readOnly: '承認済みのため変更できません', review: '審査者のコメント', reviewItem: '審査者',
    conflict: '他の端末で変更されました。どちらを残しますか？', serverValue: 'サーバーの値', deviceValue: 'この端末の値',
    keepServer: 'サーバーの値を使う', keepDevice: 'この端末の値を使う', conflictsBanner: '{n} 件の項目で変更が衝突しています',
    errorBlocked: '送信できない変更があります', discardChange: 'この変更を破棄', retry: '再試行',
    signOutWarn: '未送信の変更が {n} 件あります。サインアウトするとこの端末から削除されます。続けますか？',
    signOutConfirm: 'サインアウトして端末のデータを消去', cancel: 'キャンセル', sessionExpired: 'セッションの有効期限が切れました。パスワードを入力してください（下書きは保持されています）',
    unanswered: '未回答', answeredOf: '{a}/{t}', notAnswered: '（未回答）', lang: 'English', sync: '同期',
    guidance: '確認方法', date: '点検日', todo: '今年度の点検予定', due: '期限', overdue: '期限超過',
    status_not_started: '未着手', nothingYet: 'まだ点検はありません', removePhoto: '写真を外す',
  },
  en: {
    app: 'Facility inspection', signIn: 'Sign in', username: 'User name', password: 'Password',
    signInFailed: 'Could not sign in', needNetwork: 'The first sign-in needs the network',
    signOut: 'Sign out', online: 'Online', offline: 'Offline', waiting: '{n} changes waiting',
    allSent: 'All sent', facilities: 'Your facilities', inspections: 'Inspections', start: 'Start inspection',
    noChecklist: 'No checklist applies', back: 'Back to list', status_draft: 'Draft',
    status_submitted: 'Submitted', status_returned: 'Returned', status_approved: 'Approved', status_discarded: 'Discarded',
    yes: 'Yes', no: 'No', na: 'N/A', comment: 'Comment', addPhoto: 'Take or choose a photo',
    photos: 'Photos', remaining: 'Still needed before submit', required: 'Not answered', comment_required: 'Needs a comment',
    photo_required: 'Needs a photo', invalid: 'Invalid answer', hidden: 'Answer to a hidden item', unknown_item: 'Unknown item',
    submit: 'Submit', resubmit: 'Resubmit', readyToSubmit: 'Ready to submit', submitted: 'Submitted (may still be waiting to send)',
    readOnly: 'Approved: read-only', review: 'Reviewer comments', reviewItem: 'Reviewer',
    conflict: 'Changed on another device. Which one should stay?', serverValue: 'Server', deviceValue: 'This device',
    keepServer: 'Use the server value', keepDevice: 'Use this device value', conflictsBanner: '{n} items conflict',
    errorBlocked: 'A change cannot be sent', discardChange: 'Discard this change', retry: 'Retry',
    signOutWarn: '{n} changes have not been sent. Signing out deletes them from this device. Continue?',
    signOutConfirm: 'Sign out and wipe this device', cancel: 'Cancel', sessionExpired: 'Your session expired. Enter your password (drafts are kept).',
    unanswered: 'Unanswered', answeredOf: '{a}/{t}', notAnswered: '(not answered)', lang: '日本語', sync: 'Sync',
    guidance: 'How to check', date: 'Date', todo: 'To do this year', due: 'Due', overdue: 'Overdue',
    status_not_started: 'Not started', nothingYet: 'No inspections yet', removePhoto: 'Remove photo',
  },
};

let lang = 'ja';

/** @param {string} l */
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'ja';
  document.documentElement.lang = lang;
}

export function getLang() {
  return lang;
}

/**
 * The interface string named key, with {name} placeholders filled.
 * @param {string} key @param {Record<string, string | number>} [vars]
 */
export function t(key, vars) {
  let s = STRINGS[lang][key] ?? STRINGS.ja[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
  return s;
}

/**
 * A checklist or facility text in the current language (Japanese when the
 * English is missing).
 * @param {{ja?: string, en?: string, JA?: string, EN?: string} | undefined} x
 */
export function text(x) {
  if (!x) return '';
  return (lang === 'en' ? x.en || x.EN : '') || x.ja || x.JA || '';
}
