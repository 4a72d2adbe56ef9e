// Losing the server and getting it back: the page says it is reconnecting, a message written
// meanwhile waits as "sending…" and goes out once after the reconnect, and the rooms are
// re-joined from the last event seen, without gaps or duplicates.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enter, joinRoom, newPerson, shownRoom, serverAndBrowser } from './harness.mjs';

const ctx = serverAndBrowser();
const pages = [];

async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    console.error('--- ctx.server log ---\n%s', ctx.server.logs());
    for (const p of pages) if (p.errors.length) console.error('--- page errors ---\n%s', p.errors.join('\n'));
    throw err;
  }
}

async function person(name) {
  const page = await newPerson(ctx.browser, name);
  pages.push(page);
  return page;
}

async function say(page, text) {
  const box = shownRoom(page).getByRole('textbox', { name: 'メッセージ' });
  await box.fill(text);
  await box.press('Enter');
}

function bodies(page, text) {
  return shownRoom(page).locator('.timeline .msg-body', { hasText: text });
}

test('a server restart: reconnecting indicator, pending post re-sent once, rooms resumed', () => guarded(async () => {
  const a = await person('A');
  const b = await person('B');
  await enter(a, ctx.server.base, { handle: 'つむぎ', shape: 'しずく', color: 'みかん' });
  await enter(b, ctx.server.base, { handle: 'みなと', shape: 'さんかく', color: 'うみ' });
  await joinRoom(a, 'ひろば', 'participant');
  await joinRoom(b, 'ひろば', 'chat_only');

  await say(a, '最初のひとこと');
  await bodies(b, '最初のひとこと').waitFor();

  // A stands somewhere other than the spawn point before the server goes away.
  const self = a.locator('#map-people li', { hasText: 'つむぎ' });
  const spawn = { x: await self.getAttribute('data-x'), y: await self.getAttribute('data-y') };
  await a.locator('canvas.lobby-canvas').focus();
  // Towards the middle, so that the map's edge does not stop the walk.
  const down = Number(spawn.y) < 300;
  for (let i = 0; i < 4; i += 1) await a.keyboard.press(down ? 'Shift+ArrowDown' : 'Shift+ArrowUp'); // 36 map units each
  const stood = { x: spawn.x, y: String(Number(spawn.y) + (down ? 1 : -1) * 4 * 36) };
  const seesAt = (p) => {
    const li = [...document.querySelectorAll('#map-people li')].find((x) => x.textContent.startsWith('つむぎ'));
    return li && li.dataset.x === p.x && li.dataset.y === p.y;
  };
  await b.waitForFunction(seesAt, stood);

  await ctx.server.halt();
  await a.locator('#conn-status', { hasText: '再接続しています' }).waitFor();
  await b.locator('#conn-status', { hasText: '再接続しています' }).waitFor();

  await say(a, 'つながらない間に書いた');
  await shownRoom(a).locator('.pending-list .msg', { hasText: 'つながらない間に書いた' })
    .locator('.pending-status', { hasText: '送信中' }).waitFor();

  await ctx.server.resume();
  await bodies(b, 'つながらない間に書いた').waitFor();
  await bodies(a, 'つながらない間に書いた').waitFor();
  await a.waitForFunction(() => document.querySelectorAll('.pending-list li').length === 0);
  await a.waitForFunction(() => document.querySelector('#conn-status').textContent === '');
  await b.waitForFunction(() => document.querySelector('#conn-status').textContent === '');

  // Each message once, in order, on both sides.
  for (const page of [a, b]) {
    const texts = await shownRoom(page).locator('.timeline .msg-body').allInnerTexts();
    assert.deepEqual(texts, ['最初のひとこと', 'つながらない間に書いた']);
  }

  // The re-joined rooms are live again, in the same modes.
  await say(b, 'おかえりなさい');
  await bodies(a, 'おかえりなさい').waitFor();
  assert.equal(await bodies(a, 'おかえりなさい').count(), 1);
  await shownRoom(b).locator('.mode-line', { hasText: 'チャットのみ' }).waitFor();
  // A's avatar is back where it stood, not at the spawn point.
  await b.waitForFunction(seesAt, stood);

  for (const p of pages) assert.deepEqual(p.errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(e)), []);
}));

test('a stored token that is no longer valid leads back to the Enter screen', () => guarded(async () => {
  const page = await person('D');
  await page.goto(ctx.server.base);
  await page.evaluate(() => localStorage.setItem('ibasho.token', 'not-a-valid-token'));
  await page.reload();
  await page.getByLabel('ここでの呼び名').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('ibasho.token')), null);
}));
