// rules.js against the server's own answers to the same cases
// (testdata/rules.json, written from the checklist package by
// TestRulesFixture). Run: node --test web/app/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { visible, submitProblems, evaluate, progress, sameAnswer } from '../rules.js';
import { fit } from '../photo.js';

const fixture = JSON.parse(readFileSync(new URL('../testdata/rules.json', import.meta.url), 'utf8'));
/** @type {import('../rules.js').Content} */
const content = fixture.content;
const conditional = content.sections.flatMap((s) => s.items).filter((it) => it.show_if).map((it) => it.key);

for (const c of fixture.cases) {
  test(`show-if and submit rules: ${c.name}`, () => {
    const vis = visible(content, c.answers);
    assert.deepEqual(conditional.filter((k) => vis[k]), c.visible);
    assert.deepEqual(submitProblems(content, c.answers), c.problems);
  });
}

test('evaluate: N/A, failed and passed answers', () => {
  const items = Object.fromEntries(content.sections.flatMap((s) => s.items).map((it) => [it.key, it]));
  assert.deepEqual(evaluate(items['signage.temporary_notices'], { value: 'na' }), { answered: true, failed: false, na: true });
  assert.equal(evaluate(items['signage.exterior_sign'], { value: false }).failed, true);
  assert.equal(evaluate(items['signage.wayfinding'], { value: 2 }).failed, true);
  assert.equal(evaluate(items['signage.wayfinding'], { value: 3 }).failed, false);
  assert.equal(evaluate(items['flyers.expired_count'], { value: 1 }).failed, true);
  assert.equal(evaluate(items['feedback.channels'], { value: ['none'] }).failed, true);
  assert.equal(evaluate(items['signage.wayfinding'], { value: 9 }).answered, false);
});

test('progress counts the items that apply', () => {
  const p = progress(content, { 'accessibility.upper_floors': { value: 'yes' } });
  const acc = p.find((s) => s.key === 'accessibility');
  assert.ok(acc);
  assert.equal(acc.answered, 1);
  const none = progress(content, {}).find((s) => s.key === 'accessibility');
  assert.equal(/** @type {any} */ (none).total, acc.total - 1); // the lift question only with upper floors
});

test('sameAnswer normalizes like the server', () => {
  assert.ok(sameAnswer({ value: true }, { value: 'yes' }));
  assert.ok(sameAnswer({ value: ['b', 'a'] }, { value: ['a', 'b'] }));
  assert.ok(sameAnswer(null, { value: '' }));
  assert.ok(!sameAnswer({ value: 'yes' }, { value: 'yes', comment: 'x' }));
});

test('photos are scaled to at most 2048 px on the longest side', () => {
  assert.deepEqual(fit(4032, 3024), { width: 2048, height: 1536 });
  assert.deepEqual(fit(3000, 4000), { width: 1536, height: 2048 });
  assert.deepEqual(fit(800, 600), { width: 800, height: 600 });
});
