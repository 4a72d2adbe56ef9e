// An automated accessibility audit (axe-core: WCAG 2.1 A and AA, and best practices) of the main screens:
// Enter, the plaza with a message, a room with the mode dialog open, and the English page.
// It cannot replace trying the page with a screen reader, but it catches regressions.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { enter, joinRoom, newPerson, shownRoom, serverAndBrowser } from './harness.mjs';

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const ctx = serverAndBrowser();

async function audit(page, what) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  assert.ok(result.passes.length > 0, `axe ran its rules on ${what}`);
  const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(problems, [], `accessibility problems on ${what}`);
}

test('the main screens pass an automated WCAG 2.1 AA audit', async () => {
  const page = await newPerson(ctx.browser, 'A');
  // Reduced motion switches the colour transitions off, so no colour is sampled halfway.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(ctx.server.base);
  await page.getByLabel('ここでの呼び名').waitFor();
  await audit(page, 'the Enter screen');

  await enter(page, ctx.server.base, { handle: 'そよかぜ', shape: 'ハート', color: 'さくら' });
  await audit(page, 'the welcome panel');

  await joinRoom(page, 'ひろば', 'participant');
  const box = shownRoom(page).getByRole('textbox', { name: 'メッセージ' });
  await box.fill('こんにちは');
  await box.press('Enter');
  await shownRoom(page).locator('.timeline .msg .stamps').waitFor();
  await audit(page, 'the plaza');

  await shownRoom(page).getByRole('button', { name: '入り方を変える' }).click();
  await page.getByRole('dialog').waitFor();
  await audit(page, 'the mode dialog');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });

  await page.getByRole('button', { name: 'English' }).click();
  await shownRoom(page).getByRole('button', { name: 'Change how I am here' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await audit(page, 'the English page');
  assert.deepEqual(page.errors, []);
});
