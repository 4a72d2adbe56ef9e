// The foundation, as people use it: two people enter and meet in the plaza, one walks and
// the other sees it; staff open a chat room; a message goes across; a third person watches
// without being named; a reload comes back in where it was.

import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { OUTPUT_DIR, REPO, WAIT_MS, enter, joinRoom, newPerson, shownRoom, serverAndBrowser } from './harness.mjs';

const ctx = serverAndBrowser();
const pages = [];

async function person(name) {
  const page = await newPerson(ctx.browser, name);
  pages.push(page);
  return page;
}

const ROOM = 'おしゃべりの部屋';
const A = { handle: 'はな', shape: 'ほし', color: 'そら' };
const B = { handle: 'ゆずき', shape: 'はっぱ', color: 'わかば' };
const C = { handle: 'こもれび', shape: 'くも', color: 'ふじ' };

test('plaza, chat room, anonymous watching and resume, in real browsers', async () => {
  try {
    await scenario();
  } catch (err) {
    console.error('--- ctx.server log ---\n%s', ctx.server.logs());
    for (const p of pages) if (p.errors.length) console.error('--- page errors ---\n%s', p.errors.join('\n'));
    throw err;
  }
  for (const p of pages) assert.deepEqual(p.errors, [], 'no script errors in any page');
});

async function scenario() {
  // Staff sign in with the link the admin CLI prints, and open a chat room.
  const staffToken = await ctx.server.createAccount('staff', 'スタッフ');
  const staff = await person('staff');
  await staff.goto(`${ctx.server.base}/#token=${staffToken}`);
  await staff.getByRole('button', { name: 'へやをつくる' }).click();
  const create = staff.getByRole('dialog');
  await create.getByLabel('へやの名前').fill(ROOM);
  await create.getByLabel('どんなへやか').fill('ゆっくり話しましょう');
  await create.getByRole('button', { name: 'つくる' }).click();
  await create.waitFor({ state: 'detached' });
  await staff.locator('.room-nav').getByRole('button', { name: ROOM }).waitFor();
  assert.ok(!staff.url().includes('token='), 'the token is stripped from the address bar');

  // Two people enter through the Enter screen and meet in the plaza.
  const a = await person('A');
  const b = await person('B');
  await enter(a, ctx.server.base, A);
  await enter(b, ctx.server.base, B);
  await joinRoom(a, 'ひろば', 'participant');
  await joinRoom(b, 'ひろば', 'participant');

  const aOnB = b.locator('#map-people li', { hasText: A.handle });
  await aOnB.waitFor({ state: 'attached' });
  await a.locator('#map-people li', { hasText: B.handle }).waitFor({ state: 'attached' });
  const aId = await aOnB.getAttribute('data-account');
  const x0 = Number(await aOnB.getAttribute('data-x'));

  // A walks right with the keyboard (12 map units a step); B sees the avatar move. The
  // server spawns avatars within the middle two thirds, so six steps stay on the map.
  const map = a.locator('canvas.lobby-canvas');
  await map.focus();
  for (let i = 0; i < 6; i += 1) {
    await a.keyboard.press('ArrowRight');
    await a.waitForTimeout(40);
  }
  await b.waitForFunction(([id, x]) => {
    const li = document.querySelector(`#map-people li[data-account="${id}"]`);
    return li && Number(li.dataset.x) === x + 72;
  }, [aId, x0], { timeout: WAIT_MS });

  // A says hello in the plaza; B answers with a stamp.
  const hello = 'こんにちは。ここ、落ち着きますね';
  await shownRoom(a).getByRole('textbox', { name: 'メッセージ' }).fill(hello);
  await shownRoom(a).getByRole('textbox', { name: 'メッセージ' }).press('Enter');
  const helloOnB = shownRoom(b).locator('.timeline .msg', { hasText: hello });
  await helloOnB.waitFor();
  await helloOnB.getByRole('button', { name: 'お茶どうぞ' }).click();
  await shownRoom(a).locator('.timeline .msg', { hasText: hello })
    .locator('button[aria-pressed="false"]', { hasText: '1' }).waitFor();
  await helloOnB.locator('button[aria-pressed="true"]', { hasText: '1' }).waitFor();

  // A clicks a spot on the map and walks there; B sees where A arrives.
  const mapBox = await map.boundingBox();
  await map.click({ position: { x: mapBox.width * 0.25, y: mapBox.height * 0.3 } });
  const target = { x: Math.round(960 * 0.25), y: Math.round(600 * 0.3) };
  await b.waitForFunction(([id, t]) => {
    const li = document.querySelector(`#map-people li[data-account="${id}"]`);
    return li && Math.abs(Number(li.dataset.x) - t.x) <= 3 && Math.abs(Number(li.dataset.y) - t.y) <= 3;
  }, [aId, target], { timeout: WAIT_MS });

  // A picture of the plaza with both avatars, for the README.
  await b.waitForTimeout(400); // let the gliding avatar settle
  await b.evaluate(() => window.scrollTo(0, 0));
  await mkdir(OUTPUT_DIR, { recursive: true });
  const shot = path.join(OUTPUT_DIR, 'lobby.png');
  await b.screenshot({ path: shot });
  // The README's picture is refreshed only on request, so that a test run changes no tracked
  // file: IBASHO_UPDATE_SCREENSHOT=1 npm run test:browser
  if (process.env.IBASHO_UPDATE_SCREENSHOT === '1') {
    await copyFile(shot, path.join(REPO, 'docs', 'screenshot.png'));
  }

  // Both go to the chat room; A writes, B reads.
  await joinRoom(a, ROOM, 'participant');
  await joinRoom(b, ROOM, 'participant');
  const message = 'はじめまして。今日は少しだけ話しに来ました';
  const composer = shownRoom(a).getByRole('textbox', { name: 'メッセージ' });
  await composer.fill(message);
  await composer.press('Enter');
  await shownRoom(b).locator('.timeline .msg-body', { hasText: message }).waitFor();
  await shownRoom(a).locator('.timeline .msg-body', { hasText: message }).waitFor();
  await a.waitForFunction(() => document.querySelectorAll('.pending-list li').length === 0);

  // C only watches: sees everything, cannot write, and is only a number to A.
  const c = await person('C');
  await c.goto(ctx.server.base);
  const handle = c.getByLabel('ここでの呼び名');
  await handle.fill('は');
  await c.getByRole('button', { name: '入る', exact: true }).click();
  await c.locator('#enter-handle-error', { hasText: 'この呼び名は使えません' }).waitFor();
  assert.equal(await handle.getAttribute('aria-invalid'), 'true');
  assert.match(await handle.getAttribute('aria-describedby'), /enter-handle-error/);
  await handle.fill(A.handle);
  await c.getByRole('button', { name: '入る', exact: true }).click();
  await c.locator('#enter-handle-error', { hasText: 'ほかの人が使っています' }).waitFor();
  await enter(c, ctx.server.base, C);
  await joinRoom(c, ROOM, 'view_only');
  await shownRoom(c).locator('.timeline .msg-body', { hasText: message }).waitFor();
  assert.equal(await shownRoom(c).getByRole('textbox', { name: 'メッセージ' }).isDisabled(), true, "a watcher's composer is disabled");
  assert.equal(await shownRoom(c).getByRole('button', { name: '送る' }).isDisabled(), true, "a watcher's send button is disabled");
  assert.equal(await shownRoom(c).locator('.stamps button:not([disabled])').count(), 0, "a watcher's stamps are disabled");

  await shownRoom(a).getByText('1 人が見ています').waitFor();
  const aText = await a.locator('body').innerText();
  assert.ok(!aText.includes(C.handle), 'A never sees the watcher by handle');

  // Staff see who watches, in a list of their own.
  await joinRoom(staff, ROOM, 'view_only');
  await shownRoom(staff).locator('.watcher-list', { hasText: C.handle }).waitFor();
  await shownRoom(a).getByText('2 人が見ています').waitFor();
  assert.ok(!(await a.locator('body').innerText()).includes(C.handle), 'still no watcher handle for A');

  // B reloads: back in without the Enter screen, in the same room, with the message.
  await b.reload();
  await shownRoom(b).locator('h2', { hasText: ROOM }).waitFor();
  await shownRoom(b).locator('.timeline .msg-body', { hasText: message }).waitFor();
  assert.equal(await b.locator('#enter-handle').count(), 0, 'no Enter screen after a reload');
  // And the room still works after the reload.
  const again = 'また来ました';
  await shownRoom(b).getByRole('textbox', { name: 'メッセージ' }).fill(again);
  await shownRoom(b).getByRole('textbox', { name: 'メッセージ' }).press('Enter');
  await shownRoom(a).locator('.timeline .msg-body', { hasText: again }).waitFor();
}
