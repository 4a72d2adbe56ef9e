// An automated accessibility audit (axe-core: WCAG 2.1 A and AA, and best practices) of the main screens:
// Enter, the plaza with a message, a room with the mode dialog open, and the English page.
// It cannot replace trying the page with a screen reader, but it catches regressions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { audit, enter, joinRoom, newPerson, shownRoom, serverAndBrowser } from './harness.mjs';

const ctx = serverAndBrowser();

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

test('the public entry pages pass the same audit, in Japanese and English', async () => {
  const page = await newPerson(ctx.browser, 'visitor');
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(`${ctx.server.base}/#/apply`);
  await page.getByRole('heading', { level: 1, name: '利用の申し込み' }).waitFor();
  await page.getByRole('button', { name: '申し込む', exact: true }).click();
  await page.locator('#apply-email-error').waitFor();
  await audit(page, 'the application form with its errors');

  await page.goto(`${ctx.server.base}/#/sign-in`);
  await page.getByRole('heading', { level: 1, name: 'サインイン' }).waitFor();
  await page.getByLabel('呼び名またはメールアドレス').fill('だれか');
  await page.getByLabel('合言葉またはパスワード').fill('まちがった合言葉です');
  await page.getByRole('button', { name: 'サインインする' }).click();
  await page.getByRole('alert').waitFor();
  await audit(page, 'the sign-in page with an error');

  await page.goto(`${ctx.server.base}/#/register?token=forged`);
  await page.getByRole('heading', { level: 1, name: 'このリンクは使えません' }).waitFor();
  await audit(page, 'the page for a link that cannot be used');

  await page.getByRole('button', { name: '困ったときは' }).click();
  await page.getByRole('dialog').waitFor();
  await audit(page, 'the crisis contacts dialog');
  await page.keyboard.press('Escape');

  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('link', { name: 'About' }).click();
  await page.getByRole('heading', { level: 1, name: 'Welcome to ibasho' }).waitFor();
  assert.equal(await page.title(), 'Welcome to ibasho — ibasho');
  await audit(page, 'the English home page');
  assert.deepEqual(page.errors, []);
});
